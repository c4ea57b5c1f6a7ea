// tools/recsys/cmd_evaluate.hpp — `recsys evaluate RUN`: reload a run's model and data, rebuild its split and evaluate again.
#pragma once

#include <cmath>
#include <cstdio>
#include <string>

#include "recsys/rec/recommender.hpp"

#include "args.hpp"
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
                   "A cross-validated run (--eval cv) trained one model per fold: its metrics.json is printed.",
        .positionals = {{"RUN", "run folder written by recsys train"}}};
    s.options = data_options();
    for (OptionSpec& o : s.options) o.help += " (default: the files in config.json)";
    s.examples = "  recsys evaluate runs/ranker\n";
    return s;
  }();
  return spec;
}

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
  }
  const rec::Dataset data = load_data(source);
  const std::string expected = member(config, "data_fingerprint", run.config()).as_string();
  RECSYS_CHECK(fingerprint(data) == expected, "the data read now (fingerprint ", fingerprint(data),
               ") differ from those run '", run.dir.string(), "' was trained on (", expected, ")");
  const Prepared prepared = prepare(data, eval);
  const std::unique_ptr<rec::Recommender> model = rec::load_recommender(run.model_dir().string());
  RECSYS_CHECK(model->data().size() == prepared.train.size(), "run '", run.dir.string(), "': the saved model was trained on ",
               model->data().size(), " interactions, but the rebuilt split trains on ", prepared.train.size());
  std::printf("run %s: %s reloaded, %s protocol rebuilt from %s\n\n", run.dir.string().c_str(), model->name().c_str(),
              eval.protocol.c_str(), source.format.c_str());
  const Evaluation e = evaluate(*model, data, prepared, eval, source);
  std::printf("%s", e.report.c_str());

  // The headline number must reproduce what train stored.
  const char* section = eval.protocol == "split" ? "classification" : "ranking";
  const std::string key = eval.protocol == "split" ? "auc" : "ndcg@" + std::to_string(eval.k);
  const json::Value* now = e.metrics.find(section);
  const json::Value* then = stored.find(section);
  if (now && then && now->find(key) && then->find(key)) {
    const double a = now->at(key).as_double(), b = then->at(key).as_double();
    std::printf("%s %s metrics.json (%s %.6f)\n", a == b ? "matches" : "DIFFERS from", "the stored", key.c_str(), b);
    return a == b ? 0 : 1;
  }
  return 0;
}

}  // namespace recsys::cli
