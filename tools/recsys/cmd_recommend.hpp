// tools/recsys/cmd_recommend.hpp — `recsys recommend RUN`: reload a trained model and print users' top-N unseen items with titles and scores, for a few users as a table or for every user as CSV / JSON lines.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "recsys/core/parallel.hpp"
#include "recsys/io/atomic_file.hpp"
#include "recsys/io/json.hpp"
#include "recsys/rec/recommender.hpp"

#include "args.hpp"
#include "run_folder.hpp"
#include "text_table.hpp"

namespace recsys::cli {

inline const CommandSpec& recommend_spec() {
  static const CommandSpec spec{
      .name = "recommend",
      .summary = "Reload a trained run and give users their top-N unseen items (a table, CSV or JSON lines).",
      .details = "Unseen means neither in the model's training data nor held out for its evaluation: the list is\n"
                 "what the user has not rated at all. --beside prints a second run's list next to it.\n"
                 "Whom for: --user 1,2,3, --users - (ids from stdin, one a line), --users-file FILE (one a line;\n"
                 "a 'user_id' header and '#' comments are skipped) or --all-users. Unknown ids are reported on\n"
                 "stderr and skipped. csv writes user_id,rank,item_id,title,score rows; jsonl one\n"
                 "{\"user\", \"items\": [{\"item\", \"title\", \"score\"}]} object a line. --output replaces FILE\n"
                 "atomically (a reader never sees half of it). Users are scored in blocks, in parallel.",
      .positionals = {{"RUN", "run folder written by recsys train"}},
      .options = {{"user", "ID[,ID...]", "user id(s) as in the data files", ""},
                  {"users", "-", "read user ids from stdin, one a line", ""},
                  {"users-file", "FILE", "read user ids from FILE, one a line", ""},
                  {"all-users", "", "every user of the training data", ""},
                  {"n", "N", "list length", "10", 'n'},
                  {"format", "FMT", "table, csv or jsonl", "table"},
                  {"output", "FILE", "write to FILE (atomically) instead of stdout", ""},
                  {"beside", "RUN", "a second run whose list is printed beside (table only)", ""},
                  {"recent", "N", "how many of the user's latest liked items to show first (table only)", "3"}},
      .examples = "  recsys recommend runs/ranker --user 42 -n 10\n  recsys recommend runs/ranker --user 1,2,3 --beside runs/mf\n"
                  "  recsys recommend runs/mf --all-users --format csv --output recs.csv\n"
                  "  cut -d, -f1 ids.csv | recsys recommend runs/mf --users - --format jsonl\n"};
  return spec;
}

namespace recommend_detail {

/// A reloaded model and the item ids it must never recommend to each user (held-out ones).
struct Loaded {
  std::string path;
  std::unique_ptr<rec::Recommender> model;
  std::set<std::pair<std::string, std::string>> held_out;  ///< (user id, item id)
  std::string data_fingerprint;  ///< config.json's: the data the run was trained on
};

inline Loaded load(const std::string& path) {
  Loaded l;
  l.path = path;
  const RunFolder run = RunFolder::open(path);
  l.model = rec::load_recommender(run.model_dir().string());
  // A model whose scores do not order one user's items (the review classifiers score review text: every
  // user would get the same list) has nothing to recommend; say so instead of printing that list.
  if (!l.model->capabilities().ranks_items)
    throw UsageError("run '" + path + "' holds a " + l.model->name() + " model, whose scores are not per-user " +
                     "rankings (it scores review text, so every user would get the same list); recommend from a " +
                     "model that ranks items per user (mf, ease, itemknn, nextitem, sasrec, sequence, content, " +
                     "popularity)");
  const json::Value config = read_json(run.config());
  if (const json::Value* f = config.find("data_fingerprint"); f != nullptr && f->is_string())
    l.data_fingerprint = f->as_string();
  if (std::filesystem::is_regular_file(run.held_out())) {
    const UnitTable t = UnitTable::read(run.held_out(), 2);
    for (std::size_t r = 0; r < t.rows(); ++r) l.held_out.emplace(t.keys[0][r], t.keys[1][r]);
  }
  run.check_unchanged();  // everything read came from the one folder RunFolder::open verified
  return l;
}

/// Flags the items user u must not be recommended: rated in training or held out.
inline void mark_unseen_exclusions(const Loaded& l, std::int64_t u, std::vector<std::uint8_t>& exclude) {
  const rec::Dataset& d = l.model->data();
  exclude.assign(static_cast<std::size_t>(d.num_items()), 0);
  for (std::int64_t i : l.model->seen(u)) exclude[static_cast<std::size_t>(i)] = 1;
  const std::string& user_id = d.user_id(u);
  for (auto it = l.held_out.lower_bound({user_id, ""}); it != l.held_out.end() && it->first == user_id; ++it)
    if (const auto i = d.find_item(it->second)) exclude[static_cast<std::size_t>(*i)] = 1;
}

/// The n best items for a user that the user never rated (neither in training nor held out).
inline std::vector<rec::ScoredItem> unseen_top(const Loaded& l, const std::string& user_id, std::int64_t n) {
  const std::int64_t u = l.model->data().user_index(user_id);
  std::vector<std::uint8_t> exclude;
  mark_unseen_exclusions(l, u, exclude);
  return rec::top_n(l.model->score_all(u), n, exclude);
}

inline std::string score_text(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, std::fabs(s) >= 100 ? "%.0f" : "%.3f", s);
  return buf;
}

/// Ids one a line from a stream: blank lines, '#' comments and a first line "user_id" are skipped;
/// a line "42,..." gives "42" (the first CSV column), trailing white space trimmed.
inline std::vector<std::string> read_ids(std::istream& in) {
  std::vector<std::string> out;
  std::string line;
  bool first = true;
  while (std::getline(in, line)) {
    const std::size_t comma = line.find(',');
    if (comma != std::string::npos) line.resize(comma);
    const std::size_t a = line.find_first_not_of(" \t\r"), b = line.find_last_not_of(" \t\r");
    const std::string id = a == std::string::npos ? "" : line.substr(a, b - a + 1);
    const bool header = first && id == "user_id";
    first = false;
    if (id.empty() || id[0] == '#' || header) continue;
    out.push_back(id);
  }
  return out;
}

inline std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) (out += c) += c == '"' ? "\"" : "";
  return out + "\"";
}

/// Where the lines go: stdout, or a temporary file that replaces --output when all went well.
class Sink {
 public:
  explicit Sink(const std::string& path) {
    if (!path.empty()) file_ = std::make_unique<io::AtomicFile>(path);
  }
  void write(const std::string& s) {
    if (file_) file_->write(s);
    else std::fwrite(s.data(), 1, s.size(), stdout);
  }
  void commit() {
    if (file_) file_->commit();
    else std::fflush(stdout);
  }

 private:
  std::unique_ptr<io::AtomicFile> file_;
};

/// The export modes: every requested known user's list as CSV rows or JSON lines, users scored a block
/// at a time through score_users (one GEMM per block for the factor models) and ranked in parallel.
inline void export_lists(const Loaded& l, const std::vector<std::int64_t>& users, std::int64_t n,
                         const std::string& format, Sink& sink) {
  const rec::Dataset& d = l.model->data();
  const auto n_items = static_cast<std::size_t>(d.num_items());
  if (format == "csv") sink.write("user_id,rank,item_id,title,score\n");
  constexpr std::size_t kBlock = 256;
  std::vector<double> scores;
  std::vector<std::string> text;
  const bool show = ::isatty(2) != 0;
  for (std::size_t first = 0; first < users.size(); first += kBlock) {
    const std::size_t count = std::min(kBlock, users.size() - first);
    const std::span<const std::int64_t> block(users.data() + first, count);
    scores.assign(count * n_items, 0.0);
    l.model->score_users(block, scores);
    text.assign(count, {});
    const auto rows = static_cast<std::int64_t>(count);
#pragma omp parallel for schedule(dynamic, 8)
    for (std::int64_t r = 0; r < rows; ++r) {
      const std::int64_t u = block[static_cast<std::size_t>(r)];
      std::vector<std::uint8_t> exclude;
      mark_unseen_exclusions(l, u, exclude);
      const std::span<const double> s(scores.data() + static_cast<std::size_t>(r) * n_items, n_items);
      const std::vector<rec::ScoredItem> top = rec::top_n(s, n, exclude);
      const std::string& id = d.user_ids()[static_cast<std::size_t>(u)];
      std::string& out = text[static_cast<std::size_t>(r)];
      if (format == "csv") {
        for (std::size_t k = 0; k < top.size(); ++k) {
          const rec::Item& item = d.items()[static_cast<std::size_t>(top[k].item)];
          out += csv_field(id) + "," + std::to_string(k + 1) + "," + csv_field(item.id) + "," + csv_field(item.title) +
                 "," + (std::isfinite(top[k].score) ? json::dump(json::Value(top[k].score)) : std::string()) + "\n";
        }
      } else {
        json::Value v = json::Value::object();
        v["user"] = id;
        json::Value items = json::Value::array();
        for (const rec::ScoredItem& t : top) {
          const rec::Item& item = d.items()[static_cast<std::size_t>(t.item)];
          json::Value e = json::Value::object();
          e["item"] = item.id;
          e["title"] = item.title;
          e["score"] = std::isfinite(t.score) ? json::Value(t.score) : json::Value();
          items.push_back(std::move(e));
        }
        v["items"] = std::move(items);
        out = json::dump(v) + "\n";
      }
    }
    for (const std::string& t : text) sink.write(t);
    if (show)
      std::fprintf(stderr, "\rrecommend: %zu/%zu users", first + count, users.size()), std::fflush(stderr);
  }
  if (show) std::fprintf(stderr, "\r\033[K");
}

}  // namespace recommend_detail

inline int run_recommend(const Args& args) {
  using namespace recommend_detail;
  const std::int64_t n = args.integer("n", 1, 100000);
  const std::int64_t recent = args.integer("recent", 0, 1000);
  const std::string format = args.choice("format", {"table", "csv", "jsonl"});
  const int sources = args.given("user") + args.given("users") + args.given("users-file") + args.flag("all-users");
  if (sources == 0) throw UsageError("missing --user ID (or --users -, --users-file FILE, --all-users)");
  if (sources > 1) throw UsageError("give one of --user, --users, --users-file and --all-users");
  if (args.given("users") && args.str("users") != "-")
    throw UsageError("--users takes '-' (ids on stdin); use --user for a list or --users-file for a file");
  if (args.given("beside") && format != "table") throw UsageError("--beside needs --format table");

  std::vector<std::string> users;
  if (args.given("user")) {
    const std::string list = args.str("user");
    std::size_t start = 0;
    while (start <= list.size()) {
      const std::size_t end = std::min(list.find(',', start), list.size());
      if (end > start) users.push_back(list.substr(start, end - start));
      start = end + 1;
    }
    if (users.empty()) throw UsageError("--user needs at least one id");
  } else if (args.given("users")) {
    users = read_ids(std::cin);
  } else if (args.given("users-file")) {
    std::ifstream in(args.str("users-file"));
    RECSYS_CHECK(in.good(), "cannot read '", args.str("users-file"), "'");
    users = read_ids(in);
  }
  const Loaded a = load(args.positional(0));
  std::optional<Loaded> b;
  if (args.given("beside")) {
    b = load(args.str("beside"));
    // Two lists side by side only compare on the same data (the same users, items and ratings), as compare
    // demands.
    if (a.data_fingerprint != b->data_fingerprint)
      throw UsageError("--beside " + b->path + " was trained on other data than " + a.path +
                       " (their config.json \"data_fingerprint\" entries differ: " + a.data_fingerprint + " vs " +
                       b->data_fingerprint + "); put runs on the same data side by side");
  }
  const rec::Dataset& d = a.model->data();
  if (args.flag("all-users")) users = d.user_ids();

  // Unknown ids are reported and skipped; only when none is known is it an error.
  std::vector<std::int64_t> known;
  std::vector<std::string> unknown;
  for (const std::string& id : users) {
    if (const auto u = d.find_user(id)) known.push_back(*u);
    else unknown.push_back(id);
  }
  RECSYS_CHECK(!users.empty(), "no user ids were given (", args.given("users") ? "stdin" : "the file", " held none)");
  if (known.empty()) d.user_index(unknown.front());  // throws naming the id, as a single --user always did
  for (std::size_t k = 0; k < unknown.size() && k < 20; ++k)
    std::fprintf(stderr, "recsys recommend: unknown user id '%s' (skipped)\n", unknown[k].c_str());
  if (unknown.size() > 20) std::fprintf(stderr, "recsys recommend: ... and %zu more unknown ids\n", unknown.size() - 20);

  Sink sink(args.str("output"));
  if (format != "table") {
    export_lists(a, known, n, format, sink);
    sink.commit();
    if (args.given("output") || ::isatty(2))
      std::fprintf(stderr, "recommend: %zu users' top %lld written%s%s%s\n", known.size(), static_cast<long long>(n),
                   args.given("output") ? " to " : "", args.str("output").c_str(),
                   unknown.empty() ? "" : (" (" + std::to_string(unknown.size()) + " unknown ids skipped)").c_str());
    return 0;
  }

  char line[512];
  std::snprintf(line, sizeof line, "model %s reloaded from %s%s\n", a.model->name().c_str(), a.path.c_str(),
                b ? (", beside " + b->model->name() + " from " + b->path).c_str() : "");
  sink.write(line);
  const std::vector<std::vector<std::int64_t>> by_user = d.rows_by_user();
  for (const std::int64_t u : known) {
    const std::string& user = d.user_id(u);
    // What the user liked most recently, so a reader can judge the list.
    std::vector<std::int64_t> rows;
    for (std::int64_t r : by_user[static_cast<std::size_t>(u)])
      if (d.liked(d[r])) rows.push_back(r);
    std::string head = "\nuser " + user + ": " + std::to_string(a.model->seen(u).size()) + " training interactions, " +
                       std::to_string(rows.size()) + " liked";
    if (recent > 0 && !rows.empty()) {
      head += "; recently liked:";
      const std::size_t from = rows.size() > static_cast<std::size_t>(recent) ? rows.size() - static_cast<std::size_t>(recent) : 0;
      for (std::size_t k = rows.size(); k-- > from;)
        head += " " + clip(d.item(d[rows[k]].item).title, 40) + (k > from ? ";" : "");
    }
    sink.write(head + "\n");
    const std::vector<rec::ScoredItem> top = unseen_top(a, user, n);
    std::vector<rec::ScoredItem> other;
    if (b && b->model->data().find_user(user)) other = unseen_top(*b, user, n);
    std::vector<std::string> header{"#", a.model->name() + ": title", "score"};
    if (b) header.insert(header.end(), {b->model->name() + ": title", "score"});
    TextTable t(header);
    for (std::size_t k = 0; k < std::max(top.size(), other.size()); ++k) {
      std::vector<std::string> row{std::to_string(k + 1), "", ""};
      if (k < top.size()) row[1] = clip(d.item(top[k].item).title, 44), row[2] = score_text(top[k].score);
      if (b) {
        row.push_back(k < other.size() ? clip(b->model->data().item(other[k].item).title, 44) : "");
        row.push_back(k < other.size() ? score_text(other[k].score) : "");
      }
      t.add(row);
    }
    sink.write(t.to_string());
  }
  sink.commit();
  if (args.given("output"))
    std::fprintf(stderr, "recommend: %zu users' lists written to %s\n", known.size(), args.str("output").c_str());
  return 0;
}

}  // namespace recsys::cli
