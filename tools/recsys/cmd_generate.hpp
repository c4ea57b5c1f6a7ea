// tools/recsys/cmd_generate.hpp — `recsys generate`: writes the built-in synthetic movie site (user_data.csv, item_data.csv).
#pragma once

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>

#include "recsys/core/parallel.hpp"
#include "recsys/data/synthetic.hpp"

#include "args.hpp"
#include "text_table.hpp"

namespace recsys::cli {

inline const CommandSpec& generate_spec() {
  static const CommandSpec spec{
      .name = "generate",
      .summary = "Write the built-in synthetic movie site: user_data.csv, item_data.csv, synthetic_summary.json.",
      .details = "Users rate movies through a documented generative model (data/synthetic.hpp): genre tastes,\n"
                 "latent factors, popularity, reviews whose words track the rating, and corruption (duplicate\n"
                 "rows, empty cells) so that cleaning matters. The summary gives the Bayes-optimal accuracy of\n"
                 "the like label (rating >= 4): no model of (user, movie) can beat it on average.",
      .options = {{"out", "DIR", "folder to write into (created if needed)", "data"},
                  {"users", "N", "number of users", "600"},
                  {"items", "N", "number of movies", "1500"},
                  {"ratings", "N", "number of distinct (user, movie) ratings", "50000"},
                  {"seed", "N", "random seed: the same seed writes the same files", "42"},
                  {"duplicate-rate", "P", "share of rows written twice", "0.01"},
                  {"missing-rate", "P", "chance that each nullable cell is left empty", "0.01"},
                  {"threads", "N", "OpenMP threads (the files do not depend on it)", "2"}},
      .examples = "  recsys generate --out data\n  recsys generate --out small --users 100 --items 300 --ratings 5000\n"};
  return spec;
}

inline int run_generate(const Args& args) {
  data::SyntheticConfig config;
  config.users = args.integer("users", 1, 100'000'000);
  config.items = args.integer("items", 2, 100'000'000);
  config.ratings = args.integer("ratings", 1, INT64_MAX);
  config.seed = static_cast<std::uint64_t>(args.integer("seed", 0));
  config.duplicate_rate = args.number("duplicate-rate", 0, 0.5);
  config.missing_rate = args.number("missing-rate", 0, 0.5);
  // A user rates at most max_user_fraction of the movies (the generator's rule): more ratings than
  // that allows is a mistake on the command line, reported before anything is written.
  const auto per_user = std::max<std::int64_t>(
      1, static_cast<std::int64_t>(config.max_user_fraction * static_cast<double>(config.items)));
  if (config.ratings > per_user * config.users)
    throw UsageError("--ratings " + std::to_string(config.ratings) + " do not fit " + std::to_string(config.users) +
                     " users rating at most " + std::to_string(per_user) + " of " + std::to_string(config.items) +
                     " movies each; raise --users or --items");
  set_num_threads(args.threads("threads", 1));
  const std::string out = args.str("out");

  const data::SyntheticSummary s = data::write_synthetic(out, config);
  std::printf("wrote %s/user_data.csv (%lld rating rows), %s/item_data.csv (%lld item rows), %s/synthetic_summary.json\n",
              out.c_str(), static_cast<long long>(s.rating_rows), out.c_str(), static_cast<long long>(s.item_rows),
              out.c_str());
  TextTable t({"what", "count"});
  t.add({"users", std::to_string(s.users)});
  t.add({"movies", std::to_string(s.items)});
  t.add({"distinct ratings", std::to_string(s.ratings)});
  t.add({"duplicate rating rows", std::to_string(s.duplicate_rating_rows)});
  t.add({"duplicate item rows", std::to_string(s.duplicate_item_rows)});
  t.add({"empty rating cells", std::to_string(s.missing_ratings)});
  t.add({"empty review cells", std::to_string(s.missing_reviews)});
  t.add({"empty timestamp cells", std::to_string(s.missing_timestamps)});
  t.add({"empty item cells", std::to_string(s.missing_genres + s.missing_directors + s.missing_actors +
                                            s.missing_descriptions)});
  std::printf("%s", t.to_string().c_str());
  std::printf("like rate (rating >= 4) %.3f; Bayes-optimal like accuracy %.4f; majority-class accuracy %.4f\n",
              s.like_rate, s.bayes_accuracy, std::max(s.like_rate, 1 - s.like_rate));
  return 0;
}

}  // namespace recsys::cli
