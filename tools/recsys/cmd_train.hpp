// tools/recsys/cmd_train.hpp — `recsys train`: load and clean data, train one of the five models, evaluate it beside its baselines, write a run folder.
#pragma once

#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "recsys/core/parallel.hpp"
#include "recsys/core/profiler.hpp"
#include "recsys/io/chrome_trace.hpp"
#include "recsys/rec/recommender.hpp"
#include "recsys/rec/tuning.hpp"
#include "recsys/train/svg_chart.hpp"

#include "args.hpp"
#include "data_source.hpp"
#include "distributed.hpp"
#include "protocol.hpp"
#include "run_folder.hpp"
#include "run_publish.hpp"
#include "tuning.hpp"

namespace recsys::cli {

namespace train_detail {

/// Each model's defaults, for --help.
inline std::string defaults_text() {
  std::string s = "Defaults per model (options not given keep these):\n";
  for (const std::string& kind : rec::recommender_kinds()) {
    char buf[256];
    std::snprintf(buf, sizeof buf, "  %-14s", kind.c_str());
    s += buf;
    const rec::FitOptions o = rec::default_options(kind);
    if (!rec::make_recommender(kind, o)->capabilities().trains_in_epochs) {
      s += "fitted in one pass, no epochs";
      if (kind == "ease") s += ", lambda " + fixed(o.lambda, 0) + ", recency " + fixed(o.recency, 2);
      if (kind == "itemknn") s += ", neighbours " + std::to_string(o.neighbours) + ", shrinkage " + fixed(o.shrinkage, 1);
      s += "\n";
      continue;
    }
    std::snprintf(buf, sizeof buf, "epochs %d, batch %lld, %s lr %g", o.epochs, static_cast<long long>(o.batch_size),
                  o.optimizer.c_str(), o.lr);
    s += buf;
    if (kind == "mf") s += ", factors " + std::to_string(o.factors) + ", loss " + o.loss + ", l2 " + fixed(o.l2, 3);
    if (kind == "review") s += ", vocab " + std::to_string(o.vocab_size) + ", length " + std::to_string(o.max_length);
    if (kind == "review-linear") s += ", full-batch steps, l2 " + fixed(o.l2, 4) + ", 1-2-grams kept " + std::to_string(o.vocab_size);
    if (kind == "sequence")
      s += ", history " + std::to_string(o.history) + ", item tokens " + std::to_string(o.item_tokens) +
           ", negatives " + std::to_string(o.negatives);
    if (kind == "review" || kind == "sequence")
      s += ", embedding " + std::to_string(o.embedding_dim) + ", filters " + std::to_string(o.filters) + ", lstm " +
           std::to_string(o.lstm_units);
    s += "\n";
  }
  s.pop_back();  // the help text adds its own line break
  return s;
}

/// FitOptions: the model's defaults, overridden by the options given.
inline rec::FitOptions fit_options(const Args& args, const std::string& kind) {
  rec::FitOptions o = rec::default_options(kind);
  if (args.given("epochs")) o.epochs = static_cast<int>(args.integer("epochs", 1, 100000));
  if (args.given("batch-size")) o.batch_size = args.integer("batch-size", 1, 1 << 24);
  if (args.given("lr")) o.lr = args.number("lr", 1e-12, 1e6);
  if (args.given("optimizer")) o.optimizer = args.choice("optimizer", {"adam", "sgd"});
  if (args.given("seed")) o.seed = static_cast<std::uint64_t>(args.integer("seed", 0));
  if (args.given("validation-split")) o.validation_split = args.number("validation-split", 0, 0.9);
  if (args.given("factors")) o.factors = args.integer("factors", 1, 100000);
  if (args.given("loss")) o.loss = args.choice("loss", {"mse", "bpr"});
  if (args.given("l2")) o.l2 = args.number("l2", 0, 1e6);
  if (args.given("negatives")) o.negatives = args.integer("negatives", 0, 100000);
  if (args.given("history")) o.history = args.integer("history", 1, 10000);
  if (args.given("item-tokens")) o.item_tokens = args.integer("item-tokens", 1, 10000);
  if (args.given("vocab-size")) o.vocab_size = args.integer("vocab-size", 3, 100000000);
  if (args.given("max-length")) o.max_length = args.integer("max-length", 1, 100000);
  if (args.given("embedding-dim")) o.embedding_dim = args.integer("embedding-dim", 1, 100000);
  if (args.given("filters")) o.filters = args.integer("filters", 1, 100000);
  if (args.given("lstm-units")) o.lstm_units = args.integer("lstm-units", 1, 100000);
  if (args.given("lambda")) o.lambda = args.number("lambda", 0, 1e12);
  if (args.given("neighbours")) o.neighbours = args.integer("neighbours", 1, 100000000);
  if (args.given("shrinkage")) o.shrinkage = args.number("shrinkage", 0, 1e12);
  if (args.given("recency")) o.recency = args.number("recency", 1e-6, 1);
  if (args.given("dropout")) o.dropout = args.number("dropout", 0, 0.99);
  if (args.given("blocks")) o.blocks = args.integer("blocks", 1, 1000);
  if (args.given("heads")) o.heads = args.integer("heads", 1, 1000);
  o.threads = args.threads("threads", 0);
  o.verbose = args.flag("quiet") ? 0 : 1;
  o.out = stderr;  // progress on stderr (a plain line every 10 s when it is not a terminal), results on stdout
  return o;
}

/// curves.svg: the training curves, or a note for models fitted without epochs.
inline std::string curves_svg(const History& h, const std::string& kind) {
  if (h.epochs() > 0) return h.to_svg(kind);
  return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"480\" height=\"80\" font-family=\"sans-serif\" "
         "font-size=\"14\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n<text x=\"16\" y=\"44\">" +
         detail::xml_escape(kind) + " is fitted in closed form: no training curve</text>\n</svg>\n";
}

}  // namespace train_detail

inline const CommandSpec& train_spec() {
  static const CommandSpec spec = [] {
    CommandSpec s{
        .name = "train",
        .summary = "Train a model on a data set, evaluate it beside its baselines, and write a run folder.",
        .details =
            "Models: review (the seed's CNN-LSTM on review text -> liked), review-linear (TF-IDF of word 1-2-grams\n"
            "+ logistic regression, the text baseline), sequence (the CNN-LSTM ranking a candidate after the user's\n"
            "recent likes), nextitem (the CNN-LSTM as a next-item encoder, full softmax), sasrec (a causal\n"
            "Transformer), ease (closed-form item-item), itemknn (cosine neighbours), mf (biased matrix\n"
            "factorization), content (TF-IDF profiles), popularity (the baseline). The run folder holds\n"
            "config.json, metrics.json, history.csv, curves.svg, model.safetensors (+ model.json and the training\n"
            "data), per_user.csv / per_row.csv (for recsys compare; under --eval cv every row's out-of-fold score\n"
            "and fold), held_out.csv (never recommended), manifest.json and, with --profile, profile.txt,\n"
            "profile.svg (the fit's kernel time by layer, backward op and optimizer step) and\n"
            "profile.trace.json (every kernel call on a timeline, for ui.perfetto.dev).\n\n" +
            train_detail::defaults_text()};
    s.options = {{"model", "NAME", rec::detail::kinds_list() + " (required)", ""}};
    for (const OptionSpec& o : data_options()) s.options.push_back(o);
    const std::vector<OptionSpec> rest = {
        {"out", "DIR", "run folder to write (default: runs/MODEL)", ""},
        {"epochs", "N", "training epochs", ""},
        {"batch-size", "N", "mini-batch size", ""},
        {"lr", "X", "learning rate", ""},
        {"optimizer", "NAME", "adam or sgd", ""},
        {"seed", "N", "seed of the initial weights, shuffles and training negatives", ""},
        {"threads", "N", "OpenMP threads (0: OMP_NUM_THREADS or every core)", "0"},
        {"device", "D", "cpu (this binary has no CUDA backend; GPU runs go through the library)", "cpu"},
        {"validation-split", "P", "review, sequence: last share of the training samples reported as val_*", ""},
        {"factors", "N", "mf: latent factors", ""},
        {"loss", "L", "mf: mse (predict ratings) or bpr (rank liked above unseen)", ""},
        {"l2", "X", "mf: L2 penalty; review-linear: L2 weight on the word weights (sklearn C = 1 / (l2 N))", ""},
        {"negatives", "N", "sequence, mf bpr: sampled unseen items per training interaction", ""},
        {"history", "N", "sequence: recent liked items in the input; nextitem, sasrec: window (max sequence) length", ""},
        {"item-tokens", "N", "sequence: feature tokens per item", ""},
        {"vocab-size", "N", "review: vocabulary size (with padding and out-of-vocabulary ids)", ""},
        {"max-length", "N", "review: tokens per review", ""},
        {"embedding-dim", "N", "review, sequence: embedding width", ""},
        {"filters", "N", "review, sequence: Conv1D filters", ""},
        {"lstm-units", "N", "review, sequence: LSTM width", ""},
        {"lambda", "X", "ease: L2 weight on the item-item matrix", ""},
        {"neighbours", "N", "itemknn: most similar items kept per item", ""},
        {"shrinkage", "X", "itemknn: added to the cosine's denominator", ""},
        {"recency", "X", "ease, itemknn: weight recency^k for a seen item k interactions old (1: all alike)", ""},
        {"dropout", "X", "nextitem, sasrec: dropout rate while training", ""},
        {"blocks", "N", "sasrec: Transformer blocks", ""},
        {"heads", "N", "sasrec: attention heads (must divide --embedding-dim)", ""},
        {"tune", "", "choose the model's settings on a validation split carved from the training rows (its grid: "
                     "tuning.json), then refit on all training rows", ""},
        {"quiet", "", "no progress bars", ""},
        {"distributed", "", "review, sequence: train data-parallel on the processes that mpirun started (mpirun -np N recsys train ... --distributed); every rank reads the data, rank 0 writes the run", ""},
        {"profile", "", "time every kernel of the fit; print the top scopes, write profile.txt, .svg, .trace.json", ""}};
    for (const OptionSpec& o : rest) s.options.push_back(o);
    for (const OptionSpec& o : eval_options()) s.options.push_back(o);
    s.examples =
        "  recsys train --model sequence --users data/user_data.csv --items data/item_data.csv --out runs/ranker\n"
        "  recsys train --model mf --data ../shared/data/movielens-ml-latest-small --eval leave-last-out\n"
        "  recsys train --model review --users imdb_labelled.txt --eval cv --folds 5\n";
    return s;
  }();
  return spec;
}

/// `recsys train` on one process, or on every rank of `group` (the same data, the same fits; rank 0 writes the run).
inline int run_train_on(const Args& args, dist::Communicator* group) {
  namespace fs = std::filesystem;
  using Clock = std::chrono::steady_clock;
  const std::string kind = args.required("model");
  if (std::find(rec::recommender_kinds().begin(), rec::recommender_kinds().end(), kind) == rec::recommender_kinds().end())
    throw UsageError("--model must be one of " + rec::detail::kinds_list() + ", got '" + kind + "'");
  const std::string device = args.str("device");
  if (device == "cuda" || device.rfind("cuda:", 0) == 0)
    throw UsageError("--device " + device + ": this recsys binary was built for the CPU only (the CUDA kernels are " +
                     "compiled by nvcc into programs that include them; see the README's GPU section)");
  if (device != "cpu") throw UsageError("--device must be cpu or cuda, got '" + device + "'");
  rec::FitOptions options = train_detail::fit_options(args, kind);
  const rec::Capabilities can = rec::make_recommender(kind, options)->capabilities();
  const EvalSettings eval = eval_settings(args);
  // Usage mistakes that need no data: reported (exit 2) before anything is read.
  if (eval.ranking() && !can.ranks_items)
    throw UsageError("--eval " + eval.protocol + " ranks each user's items, and " + kind +
                     " scores are not personal rankings; use --eval split or cv");
  if (eval.protocol == "cv" && kind != "review" && kind != "review-linear" && kind != "sequence" && kind != "mf")
    throw UsageError("--eval cv scores like predictions, which " + kind + " does not make; use split or leave-last-out");
  const DataSource source = resolve_data(args);
  const RunFolder run{args.given("out") ? args.str("out") : "runs/" + kind};
  // The run folder's checks before any data are read: --out usable (exit 2), no other train writing it
  // (exit 1). Then the run is written into a staging folder beside it and swapped in whole at the end
  // (run_publish.hpp). A file-size limit must fail a write with EFBIG (reported, naming the file) rather
  // than kill the process with SIGXFSZ.
  ::signal(SIGXFSZ, SIG_IGN);
  const bool writer = group == nullptr || group->is_root();  // the other ranks train, and write nothing
  std::optional<RunPublisher> publisher;
  if (writer) publisher.emplace(check_out_folder(run.dir.string()));
  if (options.threads > 0) set_num_threads(options.threads);

  const rec::Dataset data = load_data(source);
  print_cleaning(data, source);
  if (can.needs_reviews)
    RECSYS_CHECK(data.has_reviews(), "the ", kind, " model learns from review text, and these data have none (",
                 source.format, "); use a model that learns from interactions");

  // Cross-validation first (its own fits), then the model that is saved.
  Evaluation evaluation;
  set_stage("training and evaluating " + kind);
  if (eval.protocol == "cv")
    evaluation = cross_validate(kind, data, options, eval,
                                args.flag("tune") ? fold_tuner(kind, options, eval) : rec::FoldOptions{});
  const Prepared prepared = prepare(data, eval);
  for (const std::string& w : prepared.diagnostics.warnings()) std::printf("WARNING: %s\n", w.c_str());
  std::optional<Tuned> tuned;
  if (args.flag("tune")) {
    tuned = tune_on_validation(kind, options, prepared, eval);
    if (tuned) {
      options = tuned->result.chosen;
      options.verbose = args.flag("quiet") ? 0 : 1;
    }
  }
  if (!can.trains_in_epochs)
    std::printf("fitting %s on %lld interactions\n", kind.c_str(), static_cast<long long>(prepared.train.size()));
  else
    std::printf("training %s on %lld interactions (%d epochs, batch %lld, %s lr %g, %d threads)\n", kind.c_str(),
                static_cast<long long>(prepared.train.size()), options.epochs,
                static_cast<long long>(options.batch_size), options.optimizer.c_str(), options.lr, num_threads());
  std::fflush(stdout);
  std::unique_ptr<rec::Recommender> model = rec::make_recommender(kind, options);
  std::optional<profiler::Session> profiling;
  if (args.flag("profile")) profiling.emplace();
  set_stage("training " + kind);
  const auto t0 = Clock::now();
  const History history = model->fit(prepared.train);
  const double fit_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf("fitted in %.1f s\n", fit_seconds);
  if (!writer) return 0;  // what follows evaluates and writes, on rank 0 (no collectives)
  const RunFolder stage{publisher->staging()};
  std::optional<profiler::Report> profile;
  if (profiling) {
    profile = profiling->stop();
    std::printf("\nwhere the fit's time went (kernel time; the full table is in profile.txt):\n%s",
                profile->scope_table(12).c_str());
  }

  set_stage("evaluating " + kind);
  const auto t1 = Clock::now();
  if (eval.protocol == "split" || eval.ranking())
    evaluation = evaluate(*model, data, prepared, eval, source);
  const double eval_seconds = std::chrono::duration<double>(Clock::now() - t1).count();
  if (eval.protocol == "none") evaluation.metrics["protocol"] = "none";
  std::printf("\n%s", evaluation.report.c_str());

  // The run, written into the staging folder (never into the published one), then sealed and swapped in.
  set_stage("writing the run into '" + stage.dir.string() + "'");
  model->save(stage.model_dir().string());
  publisher->wrote("model (model.json, model.safetensors, users.csv, items.csv, interactions.csv, dataset.json)");
  json::Value config = json::Value::object();
  config["format"] = "recsys-run";
  config["version"] = 1;
  config["created"] = utc_now();
  config["command"] = args.command_line();
  config["model"] = kind;
  config["options"] = options.to_json();
  config["threads"] = num_threads();
  config["processes"] = group ? group->size() : 1;
  config["data"] = source.to_json();
  config["data_fingerprint"] = fingerprint(data);
  json::Value sizes = json::Value::object();
  sizes["users"] = data.num_users();
  sizes["items"] = data.num_items();
  sizes["interactions"] = data.size();
  config["data_size"] = sizes;
  config["cleaning"] = data.cleaning().to_json();
  config["evaluation"] = eval.to_json();
  if (tuned) config["tuned"] = tuned->result.points[tuned->result.best].settings;
  write_json(stage.config(), config);
  publisher->wrote("config.json");
  json::Value seconds = json::Value::object();
  seconds["fit"] = fit_seconds;
  seconds["evaluate"] = eval_seconds;
  evaluation.metrics["seconds"] = seconds;
  write_json(stage.metrics(), evaluation.metrics);
  publisher->wrote("metrics.json");
  io::write_file_atomic(stage.history().string(), history.to_csv());
  publisher->wrote("history.csv");
  io::write_file_atomic(stage.curves().string(), train_detail::curves_svg(history, kind));
  publisher->wrote("curves.svg");
  if (tuned) {
    write_json(stage.tuning(), tuned->result.to_json());
    publisher->wrote("tuning.json");
    if (tuned->validation) {
      write_split(prepared.train, *tuned->validation, stage.validation_dir());
      publisher->wrote("validation/");
    }
  }
  if (profile) {
    io::write_file_atomic(stage.profile_text().string(), profile->scope_table(1000) + "\n" + profile->table(1000));
    io::write_file_atomic(stage.profile_svg().string(),
                          render_profile_svg(*profile, "recsys train --model " + kind + ": kernel time of the fit"));
    io::write_file_atomic(stage.profile_trace().string(), io::chrome_trace(*profile));
    publisher->wrote("profile.txt, profile.svg, profile.trace.json");
  }
  if (evaluation.per_user.rows() > 0) {
    evaluation.per_user.write(stage.per_user());
    publisher->wrote("per_user.csv");
  }
  if (evaluation.per_row.rows() > 0) {
    evaluation.per_row.write(stage.per_row());
    publisher->wrote("per_row.csv");
  }
  const UnitTable held = held_out_table(data, prepared.test);
  if (held.rows() > 0) {
    held.write(stage.held_out());
    publisher->wrote("held_out.csv");
  }
  const UnitTable candidates = candidates_table(data, prepared);
  if (candidates.rows() > 0) {
    candidates.write(stage.candidates());
    publisher->wrote("candidates.csv");
  }
  json::Value identity = json::Value::object();
  identity["model"] = kind;
  identity["created"] = config["created"];
  identity["command"] = config["command"];
  identity["data_fingerprint"] = config["data_fingerprint"];
  publisher->publish(identity);
  std::printf("\nwrote %s/: manifest.json config.json metrics.json history.csv curves.svg model.safetensors%s%s%s%s%s%s\n",
              run.dir.string().c_str(), evaluation.per_user.rows() ? " per_user.csv" : "",
              evaluation.per_row.rows() ? " per_row.csv" : "", held.rows() ? " held_out.csv" : "",
              candidates.rows() ? " candidates.csv" : "", tuned ? " tuning.json validation/" : "",
              profile ? " profile.txt profile.svg profile.trace.json" : "");
  return 0;
}

/// `recsys train`: with --distributed, on the MPI world (train::Model's fits data-parallel over it).
/// A rank that fails ends all of them (MPI_Abort), after printing its error, rather than leave the
/// others waiting in a collective.
inline int run_train(const Args& args) {
  const std::shared_ptr<dist::Communicator> group = start_group(args, args.required("model"));
  if (!group) return run_train_on(args, nullptr);
  const dist::WorldScope world(group);
  if (!group->is_root()) std::fflush(stdout), (void)std::freopen("/dev/null", "w", stdout);  // one report: rank 0's
  if (group->is_root())
    std::printf("distributed: %d processes (%s); each takes 1/%d of every batch\n", group->size(),
                group->backend().c_str(), group->size());
  try {
    return run_train_on(args, group.get());
  } catch (const std::exception& e) {
    if (group->size() == 1) throw;
    std::fprintf(stderr, "recsys train: rank %d of %d: %s\n", group->rank(), group->size(), e.what());
    std::fflush(stderr);
    group->abort(dynamic_cast<const UsageError*>(&e) ? 2 : 1);
    throw;
  }
}

}  // namespace recsys::cli
