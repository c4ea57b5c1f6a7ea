// tests/tools/cli_units_test.cpp — the recsys command's pieces in-process: argument parsing and its messages, tables, run-folder files, format detection, unseen-item lists.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include <recsys/recsys.hpp>

#include "args.hpp"
#include "cmd_recommend.hpp"
#include "data_source.hpp"
#include "run_folder.hpp"
#include "text_table.hpp"

using namespace recsys;
using namespace recsys::cli;

namespace {

/// A fresh folder under the temp dir, removed at the end of the test.
struct Scratch {
  std::filesystem::path dir;
  explicit Scratch(const std::string& name)
      : dir(std::filesystem::temp_directory_path() / ("recsys_tools_" + name + "_" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
  }
  ~Scratch() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  std::string file(const std::string& leaf, const std::string& text) const {
    io::write_file_atomic((dir / leaf).string(), text);
    return (dir / leaf).string();
  }
};

const CommandSpec& demo_spec() {
  static const CommandSpec spec{.name = "demo",
                                .summary = "A command for the tests.",
                                .positionals = {{"RUN", "a run folder"}},
                                .options = {{"epochs", "N", "training epochs", "10"},
                                            {"lr", "X", "learning rate", "0.001"},
                                            {"model", "NAME", "the model", ""},
                                            {"n", "N", "list length", "10", 'n'},
                                            {"quiet", "", "no progress bars", ""}}};
  return spec;
}

Args parse_words(std::vector<std::string> words) { return parse(demo_spec(), words); }

}  // namespace

TEST_CASE("tools args: options, flags, short names, '=' values and defaults") {
  const Args a = parse_words({"runs/a", "--epochs", "3", "--lr=0.5", "-n", "7", "--quiet"});
  CHECK(a.positional(0) == "runs/a");
  CHECK(a.integer("epochs", 1) == 3);
  CHECK(a.number("lr", 0, 1) == 0.5);
  CHECK(a.integer("n", 1) == 7);
  CHECK(a.flag("quiet"));
  CHECK(a.given("lr"));
  CHECK_FALSE(a.given("model"));
  const Args b = parse_words({"runs/b", "--lr", "-1e-3"});  // a value may start with '-'
  CHECK(b.str("lr") == "-1e-3");
  CHECK(b.integer("epochs", 1) == 10);  // the declared default
  CHECK_FALSE(b.flag("quiet"));
  CHECK(wants_help({"--epochs", "x", "-h"}));
  CHECK_FALSE(wants_help({"--epochs", "3"}));
}

TEST_CASE("tools args: each mistake is one message naming it") {
  CHECK_THROWS_WITH_AS(parse_words({"r", "--colour", "red"}), "unknown option '--colour'", UsageError);
  CHECK_THROWS_WITH_AS(parse_words({"r", "--epochs"}), "--epochs needs a value (N)", UsageError);
  CHECK_THROWS_WITH_AS(parse_words({"r", "--epochs", "1", "--epochs", "2"}), "--epochs given twice", UsageError);
  CHECK_THROWS_WITH_AS(parse_words({"r", "--quiet=yes"}), "--quiet takes no value", UsageError);
  CHECK_THROWS_WITH_AS(parse_words({"r", "extra"}), "unexpected argument 'extra'", UsageError);
  CHECK_THROWS_WITH_AS(parse_words({}), "missing RUN (a run folder)", UsageError);
  CHECK_THROWS_WITH_AS(parse_words({"r", "--epochs", "3x"}).integer("epochs", 1),
                       "--epochs expects an integer, got '3x'", UsageError);
  CHECK_THROWS_WITH_AS(parse_words({"r", "--epochs", "0"}).integer("epochs", 1), "--epochs must be at least 1, got 0",
                       UsageError);
  CHECK_THROWS_WITH_AS(parse_words({"r", "-n", "50"}).integer("n", 1, 20), "--n must be between 1 and 20, got 50",
                       UsageError);
  CHECK_THROWS_WITH_AS(parse_words({"r", "--lr", "fast"}).number("lr", 0, 1), "--lr expects a number, got 'fast'",
                       UsageError);
  CHECK_THROWS_WITH_AS(parse_words({"r", "--lr", "2"}).number("lr", 0, 1), "--lr must lie in [0, 1], got 2", UsageError);
  CHECK_THROWS_WITH_AS(parse_words({"r", "--model", "knn"}).choice("model", {"mf", "content"}),
                       "--model must be one of mf, content, got 'knn'", UsageError);
  CHECK_THROWS_WITH_AS(parse_words({"r"}).required("model"), "missing --model NAME", UsageError);
}

TEST_CASE("tools args: help lists arguments, options with defaults, and -h") {
  const std::string h = help_text(demo_spec());
  CHECK(h.rfind("usage: recsys demo RUN [options]\n", 0) == 0);
  CHECK(h.find("  RUN") != std::string::npos);
  CHECK(h.find("--epochs N") != std::string::npos);
  CHECK(h.find("training epochs (default: 10)") != std::string::npos);
  CHECK(h.find("-n, --n N") != std::string::npos);
  CHECK(h.find("-h, --help") != std::string::npos);
}

TEST_CASE("tools text table: aligned columns, numbers to the right") {
  TextTable t({"model", "HR@10"});
  t.add({"mf", "0.5000"});
  t.add({"popularity", "0.25"});
  CHECK(t.to_string() ==
        "  model        HR@10\n"
        "  ----------  ------\n"
        "  mf          0.5000\n"
        "  popularity    0.25\n");
  CHECK(fixed(0.123456) == "0.1235");
  CHECK(fixed(std::nan("")) == "-");
  CHECK(clip("Amélie (2001)", 20) == "Amélie (2001)");
  CHECK(clip("Amélie and the long title", 9) == "Amélie...");  // cut by code points, not bytes
  CHECK(display_width("Amélie") == 6);
}

TEST_CASE("tools run folder: per-unit tables round-trip, and bad cells name row and column") {
  Scratch s("units");
  UnitTable t;
  t.key_names = {"user_id"};
  t.keys = {{"7", "a,b"}};
  t.value_names = {"hr@10", "ndcg@10"};
  t.values = {{1, 0}, {0.5, 0.125}};
  t.write(s.dir / "per_user.csv");
  const UnitTable back = UnitTable::read(s.dir / "per_user.csv", 1);
  CHECK(back.key_names == t.key_names);
  CHECK(back.keys == t.keys);
  CHECK(back.value_names == t.value_names);
  CHECK(back.values == t.values);
  CHECK(back.find("ndcg@10") == 1);
  CHECK(back.find("auc") == -1);
  const std::string bad = s.file("bad.csv", "user_id,hr@10\n1,0.5\n2,lots\n");
  CHECK_THROWS_WITH_AS(UnitTable::read(bad, 1), doctest::Contains("data row 2 column hr@10 holds 'lots', not a number"),
                       recsys::Error);
  CHECK_THROWS_WITH_AS(UnitTable::read(s.dir / "none.csv", 1), doctest::Contains("no file"), recsys::Error);
  CHECK_THROWS_WITH_AS(RunFolder::open((s.dir / "nowhere").string()), doctest::Contains("no run folder"), recsys::Error);
  CHECK_THROWS_WITH_AS(RunFolder::open(s.dir.string()), doctest::Contains("is not a run folder: it has no config.json"),
                       recsys::Error);
  const std::string broken = s.file("config.json", "{\"model\": ");
  CHECK_THROWS_WITH_AS(read_json(broken), doctest::Contains("config.json' is damaged: json: line 1"), recsys::Error);
}

TEST_CASE("tools data: the format is recognised from the first line") {
  Scratch s("sniff");
  CHECK(data_detail::sniff(s.file("a.txt", "So good.\t1\nBad.\t0\n")) == "uci");
  CHECK(data_detail::sniff(s.file("ratings.csv", "userId,movieId,rating,timestamp\r\n1,1,4.0,9\r\n")) == "movielens");
  CHECK(data_detail::sniff(s.file("user_data.csv", "user_id,item_id,rating,review,timestamp\n")) == "synthetic");
  CHECK_THROWS_WITH_AS(data_detail::sniff(s.file("x.csv", "user,item,stars\n")),
                       doctest::Contains("cannot tell the format of"), recsys::Error);
}

TEST_CASE("tools data: the fingerprint follows the cleaned interactions") {
  const auto make = [](double rating) {
    std::vector<rec::Item> items(2);
    items[0].id = "m1";
    items[1].id = "m2";
    return rec::Dataset({"u1", "u2"}, items, {{0, 0, 5, 1, ""}, {1, 1, rating, 2, ""}});
  };
  CHECK(fingerprint(make(4)) == fingerprint(make(4)));
  CHECK(fingerprint(make(4)) != fingerprint(make(3)));
  CHECK(fingerprint(make(4)).size() == 16);
}

TEST_CASE("tools recommend: lists leave out what the user rated, in training or held out") {
  // Popularity ranks m0 (3 ratings) > m1 (2) > m2, m3, m4 (1 each, ties by index).
  std::vector<rec::Item> items(5);
  for (int i = 0; i < 5; ++i) items[static_cast<std::size_t>(i)].id = "m" + std::to_string(i);
  const rec::Dataset data({"ann", "bob", "cat"}, items,
                          {{0, 0, 5, 1, ""}, {1, 0, 4, 1, ""}, {2, 0, 2, 1, ""}, {1, 1, 5, 2, ""}, {2, 1, 5, 2, ""},
                           {1, 2, 4, 3, ""}, {2, 3, 4, 3, ""}, {2, 4, 4, 3, ""}});
  Scratch s("recommend");
  auto model = rec::make_recommender("popularity");
  model->fit(data);
  model->save(s.dir.string());
  recommend_detail::Loaded l;
  l.model = rec::load_recommender(s.dir.string());
  // ann rated m0 in training; m1 was held out for her evaluation.
  l.held_out.emplace("ann", "m1");
  const std::vector<rec::ScoredItem> top = recommend_detail::unseen_top(l, "ann", 10);
  REQUIRE(top.size() == 3);
  CHECK(top[0] == rec::ScoredItem{2, 1.0});
  CHECK(top[1] == rec::ScoredItem{3, 1.0});
  CHECK(top[2] == rec::ScoredItem{4, 1.0});
  CHECK(recommend_detail::unseen_top(l, "bob", 1) == std::vector<rec::ScoredItem>{{3, 1.0}});
  CHECK(recommend_detail::unseen_top(l, "cat", 10) == std::vector<rec::ScoredItem>{{2, 1.0}});  // all but m2 rated
  l.held_out.emplace("cat", "m2");
  CHECK(recommend_detail::unseen_top(l, "cat", 10).empty());
  CHECK_THROWS_WITH_AS(recommend_detail::unseen_top(l, "dan", 10), doctest::Contains("unknown user id 'dan'"),
                       recsys::Error);
}
