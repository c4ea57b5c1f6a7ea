// tests/data/csv_real_data_test.cpp — read_csv on the real files in ../shared/data: MovieLens and the UCI sentences.
#include <doctest/doctest.h>

#include <filesystem>
#include <recsys/data/csv.hpp>
#include <string>

using namespace recsys;
using namespace recsys::data;

namespace {

const std::string kMovieLens = std::string(RECSYS_SHARED_DATA) + "/movielens-ml-latest-small/";
const std::string kUci = std::string(RECSYS_SHARED_DATA) + "/uci-sentiment-labelled-sentences/";

/// False (after saying why) when the shared data folder is absent, as on a fresh user machine.
bool have(const std::string& path) {
  if (std::filesystem::exists(path)) return true;
  MESSAGE("skipped: ", path, " is absent (the shared data sets live in ../shared/data)");
  return false;
}

/// The UCI layout: sentence<TAB>label, no header, quoting off (stray quotes), split on '\n' only.
CsvOptions uci_options() {
  CsvOptions o;
  o.delimiter = '\t';
  o.quoting = false;
  o.header = false;
  o.names = {"sentence", "label"};
  o.na_values = {};
  return o;
}

}  // namespace

TEST_CASE("real data: ml-latest-small ratings.csv (100,836 rows, CRLF)") {
  if (!have(kMovieLens + "ratings.csv")) return;
  const Table t = read_csv(kMovieLens + "ratings.csv");
  REQUIRE(t.num_rows() == 100836);  // SOURCE.md
  CHECK(t.names() == std::vector<std::string>{"userId", "movieId", "rating", "timestamp"});
  CHECK(t.column("userId").type() == ColumnType::int64);
  CHECK(t.column("rating").type() == ColumnType::float64);
  CHECK(t.column("timestamp").type() == ColumnType::int64);
  double sum = 0;
  std::int64_t fours = 0, ts_sum = 0;
  for (std::int64_t i = 0; i < t.num_rows(); ++i) {
    const double r = t.column("rating").float_at(i);
    sum += r;
    fours += r == 4.0;
    ts_sum += t.column("timestamp").int_at(i);
  }
  CHECK(sum == 353083.0);  // half-star sums are exact in double (pandas gives the same)
  CHECK(fours == 26818);   // SOURCE.md: the most common rating
  CHECK(ts_sum == 121602779665887);
  CHECK(t.group_by({"userId"}).num_groups() == 610);
  CHECK(t.group_by({"movieId"}).num_groups() == 9724);
  CHECK(t.column("movieId").int_at(t.num_rows() - 1) == 170875);
  for (std::int64_t j = 0; j < 4; ++j) CHECK(t.column(j).missing_count() == 0);
}

TEST_CASE("real data: movies.csv quoted titles survive intact") {
  if (!have(kMovieLens + "movies.csv")) return;
  const Table t = read_csv(kMovieLens + "movies.csv");
  REQUIRE(t.num_rows() == 9742);
  const Column& title = t.column("title");
  CHECK(title.string_at(0) == "Toy Story (1995)");
  CHECK(title.string_at(10) == "American President, The (1995)");     // a quoted comma
  CHECK(title.string_at(5019) == "11'09\"01 - September 11 (2002)");  // a doubled quote
  CHECK(t.column("genres").string_at(0) == "Adventure|Animation|Children|Comedy|Fantasy");
  CHECK(t.column("movieId").int_at(9741) == 193609);
  CHECK(title.string_at(9741) == "Andrew Dice Clay: Dice Rules (1991)");
}

TEST_CASE("real data: tags.csv and links.csv (ids with leading zeros stay strings)") {
  if (!have(kMovieLens + "tags.csv")) return;
  const Table tags = read_csv(kMovieLens + "tags.csv");
  REQUIRE(tags.num_rows() == 3683);
  CHECK(tags.column("tag").string_at(1) == "Highly quotable");
  CHECK(tags.column("tag").string_at(3005) == "\"artsy\"");
  CHECK(tags.column("tag").string_at(3682) == "Heroic Bloodshed");

  const Table links = read_csv(kMovieLens + "links.csv");
  REQUIRE(links.num_rows() == 9742);
  CHECK(links.column("imdbId").type() == ColumnType::string);  // inferred: leading zeros are kept
  CHECK(links.column("imdbId").string_at(0) == "0114709");
  CHECK(links.column("imdbId").string_at(9741) == "0101726");
  CHECK(links.column("tmdbId").type() == ColumnType::int64);
  CHECK(links.column("tmdbId").missing_count() == 8);
  CHECK(links.column("tmdbId").is_missing(624));
  CHECK(links.column("tmdbId").int_at(0) == 862);

  CsvOptions typed;  // the same, stated explicitly
  typed.dtypes = {{"imdbId", ColumnType::string}};
  CHECK(read_csv(kMovieLens + "links.csv", typed).column("imdbId").string_at(1) == "0113497");
}

TEST_CASE("real data: the three UCI sentence files read to exactly 1,000 rows") {
  for (const char* name : {"amazon_cells_labelled.txt", "imdb_labelled.txt", "yelp_labelled.txt"}) {
    if (!have(kUci + name)) return;
    INFO(name);
    const Table t = read_csv(kUci + name, uci_options());
    REQUIRE(t.num_rows() == 1000);
    const Column& label = t.column("label");
    REQUIRE(label.type() == ColumnType::int64);
    std::int64_t positives = 0;
    for (std::int64_t i = 0; i < t.num_rows(); ++i) positives += label.int_at(i);
    CHECK(positives == 500);
    CHECK(t.column("sentence").missing_count() == 0);
  }
  if (!have(kUci + "imdb_labelled.txt")) return;
  const Table imdb = read_csv(kUci + "imdb_labelled.txt", uci_options());
  const Column& s = imdb.column("sentence");
  CHECK(s.string_at(0) == "A very, very, very slow-moving, aimless movie about a distressed, drifting young man.  ");
  CHECK(s.string_at(178) == "The script is\xC2\x85was there a script?  ");  // U+0085 stays inside the sentence

  CsvOptions quoted = uci_options();  // what a quote-aware reader does with this file
  quoted.quoting = true;
  CHECK_THROWS_WITH_AS(
      read_csv(kUci + "imdb_labelled.txt", quoted),
      doctest::Contains("imdb_labelled.txt', line 81, column 1: expected the delimiter or a line break "
                        "after the closing quote"),
      Error);
}
