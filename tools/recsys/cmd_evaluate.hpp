// tools/recsys/cmd_evaluate.hpp — `recsys evaluate RUN`: reload a run's model and data, rebuild its split and evaluate again.
#pragma once

#include <cmath>
#include <cstdio>
#include <string>

#include "recsys/io/npy.hpp"
#include "recsys/rec/recommender.hpp"

#include "args.hpp"
#include "text_table.hpp"
#include "data_source.hpp"
#include "protocol.hpp"
#include "run_folder.hpp"

namespace recsys::cli {

inline const CommandSpec& evaluate_spec() {
  static const CommandSpec spec = [] {
    CommandSpec s{
        .name = "evaluate",
        .summary = "Reload a run's model, rebuild its held-out data from the original files, and evaluate it again.",
        .details = "The data files recorded in config.json are read and cleaned again and must have the same\n"
                   "fingerprint; the split is rebuilt from the recorded protocol and seed. The numbers match\n"
                   "metrics.json exactly when nothing changed. Pass --users/--items or --data when the files moved.\n"
                   "A cross-validated run (--eval cv) trained one model per fold: its metrics.json is printed.\n\n"
                   "--scores FILE.npy evaluates another system instead of the run's model, on exactly the same\n"
                   "split and candidates and by the same metric code: a float32 or float64 (users, items) matrix in\n"
                   "the order of the run's users.csv and items.csv (rows of users who are not evaluated are ignored;\n"
                   "items a user trained on are never candidates). With --split validation it is scored on the\n"
                   "validation split that --tune wrote (validation/), so a peer is tuned on the same rows as ours.",
        .positionals = {{"RUN", "run folder written by recsys train"}}};
    s.options = data_options();
    for (OptionSpec& o : s.options) o.help += " (default: the files in config.json)";
    s.options.push_back({"scores", "FILE", "a (users, items) .npy score matrix to evaluate instead of the run's model", ""});
    s.options.push_back({"name", "NAME", "with --scores: the name to report", "external"});
    s.options.push_back({"split", "S", "with --scores: test, or validation (the split --tune wrote)", "test"});
    s.options.push_back({"json", "", "print the metrics as one JSON object on stdout (the report goes to stderr)", ""});
    s.options.push_back({"export-scores", "FILE", "also write the run's model's (users, items) scores as .npy", ""});
    s.examples = "  recsys evaluate runs/ranker\n"
                 "  recsys evaluate runs/ranker --scores ease.npy --name numpy-ease --json\n";
    return s;
  }();
  return spec;
}

namespace evaluate_detail {

/// Every number of `now` equals the one at the same place in `then` (objects compared key by key
/// over `now`'s keys; anything not a number or an object must be equal too).
inline bool same_numbers(const json::Value& now, const json::Value& then, const std::string& where,
                         std::string& first_difference) {
  if (now.is_object()) {
    if (!then.is_object()) return first_difference = where, false;
    for (const auto& [key, value] : now.as_object()) {
      const json::Value* other = then.find(key);
      if (!other) return first_difference = where + "." + key + " (absent from metrics.json)", false;
      if (!same_numbers(value, *other, where + "." + key, first_difference)) return false;
    }
    return true;
  }
  if (now.is_number()) {
    if (!then.is_number() || now.as_double() != then.as_double()) return first_difference = where, false;
    return true;
  }
  if (json::dump(now) != json::dump(then)) return first_difference = where, false;
  return true;
}

/// The run's validation split, rebuilt from the training rows exactly as --tune made it.
inline Prepared validation_of(const Prepared& p, const EvalSettings& eval, const RunFolder& run) {
  RECSYS_CHECK(p.holdout.has_value(), "--split validation needs a ranking protocol (leave-last-out or temporal)");
  RECSYS_CHECK(std::filesystem::is_regular_file(run.tuning()), "--split validation: run '", run.dir.string(),
               "' was not tuned (no tuning.json); train it with --tune");
  Prepared v;
  v.holdout = rec::make_validation(*p.holdout, eval.holdout());
  v.train = v.holdout->train;
  v.test = p.train.subset(v.holdout->test_rows);
  v.diagnostics = rec::diagnose_split(v.train, v.test);
  return v;
}

/// --scores: another system's score matrix, evaluated on the run's split like one of our models.
inline int evaluate_scores(const Args& args, const RunFolder& run, const rec::Dataset& data, const Prepared& test_split,
                           const EvalSettings& eval) {
  RECSYS_CHECK(eval.ranking(), "--scores: run '", run.dir.string(), "' used --eval ", eval.protocol,
               "; external scores are ranked under leave-last-out or temporal");
  const std::string split = args.choice("split", {"test", "validation"});
  const Prepared p = split == "test" ? test_split : validation_of(test_split, eval, run);
  const std::string path = args.str("scores");
  const io::NpyMatrix m = io::read_npy(path);
  RECSYS_CHECK(m.rows == data.num_users() && m.cols == data.num_items(), "--scores: '", path, "' is ", m.rows, "×",
               m.cols, "; the run's catalogue is ", data.num_users(), " users × ", data.num_items(),
               " items (rows in users.csv order, columns in items.csv order)");
  const std::string name = args.str("name");
  const rec::BlockScorer scorer = [&](std::span<const std::int64_t> users, std::span<double> out) {
    const auto items = static_cast<std::size_t>(m.cols);
    for (std::size_t n = 0; n < users.size(); ++n)
      std::copy_n(m.values.data() + static_cast<std::size_t>(users[n]) * items, items, out.data() + n * items);
  };
  Evaluation e = evaluate_ranking(scorer, name, data, p, eval, !args.flag("json"));
  if (split == "test") {  // beside the run's own model, measured the same way
    const json::Value stored = read_json(run.metrics());
    std::string difference;
    const bool same = stored.find("ranking") &&
                      evaluate_detail::same_numbers(e.metrics.at("ranking"), stored.at("ranking"), "ranking", difference);
    e.report += same ? "every number equals the run's own model (" + stored.at("model").as_string() + ")\n"
                     : "the run's own model (" + stored.at("model").as_string() + ") scored NDCG@" +
                           std::to_string(eval.ks.front()) + " " +
                           fixed(stored.at("ranking").at("ndcg@" + std::to_string(eval.ks.front())).as_double()) + "\n";
  }
  run.check_unchanged();  // everything read came from the one folder RunFolder::open verified
  if (args.flag("json")) {
    json::Value v = e.metrics.at("ranking");
    v["name"] = name;
    v["split"] = split;
    std::fprintf(stderr, "%s", e.report.c_str());
    std::printf("%s\n", json::dump(v).c_str());
  } else {
    std::printf("%s scored on run %s's %s split\n\n%s", name.c_str(), run.dir.string().c_str(), split.c_str(),
                e.report.c_str());
  }
  return 0;
}

}  // namespace evaluate_detail

inline int run_evaluate(const Args& args) {
  const RunFolder run = RunFolder::open(args.positional(0));
  const json::Value config = read_json(run.config());
  const EvalSettings eval = EvalSettings::from_json(member(config, "evaluation", run.config()));
  const json::Value stored = read_json(run.metrics());
  if (eval.protocol == "none")
    RECSYS_FAIL("run '", run.dir.string(), "' was trained on all its data (--eval none): nothing was held out to evaluate");
  if (eval.protocol == "cv") {
    std::printf("run %s: %s, %lld-fold cross-validation (stored in metrics.json)\n", run.dir.string().c_str(),
                member(config, "model", run.config()).as_string().c_str(), static_cast<long long>(eval.folds));
    std::printf("%s\n", json::dump(member(stored, "cv", run.metrics()), 2).c_str());
    return 0;
  }

  DataSource source;
  if (args.given("data") || args.given("users")) {
    source = resolve_data(args);
  } else {
    const json::Value& d = member(config, "data", run.config());
    source.format = member(d, "format", run.config()).as_string();
    if (const json::Value* v = d.find("data")) source.dir = v->as_string();
    if (const json::Value* v = d.find("users")) source.users = v->as_string();
    if (const json::Value* v = d.find("items")) source.items = v->as_string();
    source.read_rules(d);  // the rating checks the run was trained with
  }
  const rec::Dataset data = load_data(source);
  const std::string expected = member(config, "data_fingerprint", run.config()).as_string();
  RECSYS_CHECK(fingerprint(data) == expected, "the data read now (fingerprint ", fingerprint(data),
               ") differ from those run '", run.dir.string(), "' was trained on (", expected, ")");
  const Prepared prepared = prepare(data, eval);
  check_candidates_file(run.candidates(), data, prepared);
  if (args.given("scores")) return evaluate_detail::evaluate_scores(args, run, data, prepared, eval);
  const std::unique_ptr<rec::Recommender> model = rec::load_recommender(run.model_dir().string());
  run.check_unchanged();  // everything read came from the one folder RunFolder::open verified
  RECSYS_CHECK(model->data().size() == prepared.train.size(), "run '", run.dir.string(), "': the saved model was trained on ",
               model->data().size(), " interactions, but the rebuilt split trains on ", prepared.train.size());
  std::printf("run %s: %s reloaded, %s protocol rebuilt from %s\n\n", run.dir.string().c_str(), model->name().c_str(),
              eval.protocol.c_str(), source.format.c_str());
  const Evaluation e = evaluate(*model, data, prepared, eval, source);
  std::printf("%s", e.report.c_str());
  if (args.given("export-scores")) {
    io::NpyMatrix m{data.num_users(), data.num_items(), {}};
    m.values.resize(static_cast<std::size_t>(m.rows * m.cols));
    std::vector<std::int64_t> users(static_cast<std::size_t>(m.rows));
    for (std::size_t u = 0; u < users.size(); ++u) users[u] = static_cast<std::int64_t>(u);
    model->score_users(users, m.values);
    io::write_npy(args.str("export-scores"), m);
    std::printf("wrote %s: %lld x %lld scores\n", args.str("export-scores").c_str(), static_cast<long long>(m.rows),
                static_cast<long long>(m.cols));
  }

  // Every number of every section must reproduce what train stored (times aside).
  std::string difference;
  for (const char* section : {"classification", "rating", "ranking", "baselines"}) {
    const json::Value* now = e.metrics.find(section);
    if (!now) continue;
    const json::Value* then = stored.find(section);
    if (!then || !evaluate_detail::same_numbers(*now, *then, section, difference)) {
      std::printf("DIFFERS from the stored metrics.json at %s\n", difference.empty() ? section : difference.c_str());
      return 1;
    }
  }
  std::printf("matches the stored metrics.json (every number of every section)\n");
  return 0;
}

}  // namespace recsys::cli
