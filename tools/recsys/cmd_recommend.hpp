// tools/recsys/cmd_recommend.hpp — `recsys recommend RUN --user ID`: reload a trained model and print a user's top-N unseen items with titles and scores.
#pragma once

#include <cstdio>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "recsys/rec/recommender.hpp"

#include "args.hpp"
#include "run_folder.hpp"
#include "text_table.hpp"

namespace recsys::cli {

inline const CommandSpec& recommend_spec() {
  static const CommandSpec spec{
      .name = "recommend",
      .summary = "Reload a trained run and print a user's top-N unseen items (titles and scores).",
      .details = "Unseen means neither in the model's training data nor held out for its evaluation: the list is\n"
                 "what the user has not rated at all. --beside prints a second run's list next to it.",
      .positionals = {{"RUN", "run folder written by recsys train"}},
      .options = {{"user", "ID[,ID...]", "user id(s) as in the data files (required)", ""},
                  {"n", "N", "list length", "10", 'n'},
                  {"beside", "RUN", "a second run whose list is printed beside (e.g. mf next to sequence)", ""},
                  {"recent", "N", "how many of the user's latest liked items to show first", "3"}},
      .examples = "  recsys recommend runs/ranker --user 42 -n 10\n  recsys recommend runs/ranker --user 1,2,3 --beside runs/mf\n"};
  return spec;
}

namespace recommend_detail {

/// A reloaded model and the item ids it must never recommend to each user (held-out ones).
struct Loaded {
  std::string path;
  std::unique_ptr<rec::Recommender> model;
  std::set<std::pair<std::string, std::string>> held_out;  ///< (user id, item id)
};

inline Loaded load(const std::string& path) {
  Loaded l;
  l.path = path;
  const RunFolder run = RunFolder::open(path);
  l.model = rec::load_recommender(run.model_dir().string());
  if (std::filesystem::is_regular_file(run.held_out())) {
    const UnitTable t = UnitTable::read(run.held_out(), 2);
    for (std::size_t r = 0; r < t.rows(); ++r) l.held_out.emplace(t.keys[0][r], t.keys[1][r]);
  }
  return l;
}

/// The n best items for a user that the user never rated (neither in training nor held out).
inline std::vector<rec::ScoredItem> unseen_top(const Loaded& l, const std::string& user_id, std::int64_t n) {
  const rec::Dataset& d = l.model->data();
  const std::int64_t u = d.user_index(user_id);
  std::vector<std::uint8_t> exclude(static_cast<std::size_t>(d.num_items()), 0);
  for (std::int64_t i : l.model->seen(u)) exclude[static_cast<std::size_t>(i)] = 1;
  for (auto it = l.held_out.lower_bound({user_id, ""}); it != l.held_out.end() && it->first == user_id; ++it)
    if (const auto i = d.find_item(it->second)) exclude[static_cast<std::size_t>(*i)] = 1;
  const std::vector<double> scores = l.model->score_all(u);
  return rec::top_n(scores, n, exclude);
}

inline std::string score_text(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, std::fabs(s) >= 100 ? "%.0f" : "%.3f", s);
  return buf;
}

}  // namespace recommend_detail

inline int run_recommend(const Args& args) {
  using namespace recommend_detail;
  const std::int64_t n = args.integer("n", 1, 100000);
  const std::int64_t recent = args.integer("recent", 0, 1000);
  std::vector<std::string> users;
  {
    const std::string list = args.required("user");
    std::size_t start = 0;
    while (start <= list.size()) {
      const std::size_t end = std::min(list.find(',', start), list.size());
      if (end > start) users.push_back(list.substr(start, end - start));
      start = end + 1;
    }
    if (users.empty()) throw UsageError("--user needs at least one id");
  }
  const Loaded a = load(args.positional(0));
  std::optional<Loaded> b;
  if (args.given("beside")) b = load(args.str("beside"));
  const rec::Dataset& d = a.model->data();
  std::printf("model %s reloaded from %s%s\n", a.model->name().c_str(), a.path.c_str(),
              b ? (", beside " + b->model->name() + " from " + b->path).c_str() : "");

  const std::vector<std::vector<std::int64_t>> by_user = d.rows_by_user();
  for (const std::string& user : users) {
    const std::int64_t u = d.user_index(user);
    // What the user liked most recently, so a reader can judge the list.
    std::vector<std::int64_t> rows;
    for (std::int64_t r : by_user[static_cast<std::size_t>(u)])
      if (d.liked(d[r])) rows.push_back(r);
    std::printf("\nuser %s: %lld training interactions, %lld liked", user.c_str(),
                static_cast<long long>(a.model->seen(u).size()), static_cast<long long>(rows.size()));
    if (recent > 0 && !rows.empty()) {
      std::printf("; recently liked:");
      const std::size_t from = rows.size() > static_cast<std::size_t>(recent) ? rows.size() - static_cast<std::size_t>(recent) : 0;
      for (std::size_t k = rows.size(); k-- > from;)
        std::printf(" %s%s", clip(d.item(d[rows[k]].item).title, 40).c_str(), k > from ? ";" : "");
    }
    std::printf("\n");
    const std::vector<rec::ScoredItem> top = unseen_top(a, user, n);
    std::vector<rec::ScoredItem> other;
    if (b) other = unseen_top(*b, user, n);
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
    std::printf("%s", t.to_string().c_str());
  }
  return 0;
}

}  // namespace recsys::cli
