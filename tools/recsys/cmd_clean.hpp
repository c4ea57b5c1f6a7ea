// tools/recsys/cmd_clean.hpp — `recsys clean`: read a data set, report the duplicates and missing values cleaning fixed, and write the cleaned tables.
#pragma once

#include <cstdio>
#include <string>

#include "args.hpp"
#include "data_source.hpp"
#include "text_table.hpp"

namespace recsys::cli {

inline const CommandSpec& clean_spec() {
  static const CommandSpec spec = [] {
    CommandSpec s{
        .name = "clean",
        .summary = "Clean a data set (merge duplicates, fill or drop missing values), report what changed, write it out.",
        .details = "Cleaning, in order (rec/dataset.hpp): rows repeating a (user, item) pair are merged into the\n"
                   "first, which takes any cell it lacks from the repeats; rows still without a rating are dropped;\n"
                   "an empty review becomes \"\" and an empty timestamp takes the user's neighbouring one; repeated\n"
                   "catalogue rows are merged and empty item fields become \"\". train and evaluate clean the same\n"
                   "way on every read; this command shows the report and writes the result (users.csv, items.csv,\n"
                   "interactions.csv with reviews, dataset.json)."};
    s.options = data_options();
    s.options.push_back({"out", "DIR", "folder for the cleaned tables (default: no files, report only)", ""});
    s.examples = "  recsys clean --data data --out data/clean\n";
    return s;
  }();
  return spec;
}

inline int run_clean(const Args& args) {
  const DataSource source = resolve_data(args);
  const rec::Dataset data = load_data(source);
  const rec::CleaningReport& r = data.cleaning();
  std::printf("read %lld interaction rows and %lld item rows (%s)\n", static_cast<long long>(r.rows_read),
              static_cast<long long>(r.item_rows_read), source.format.c_str());
  TextTable t({"problem", "found", "fixed by"});
  const auto add = [&](const std::string& what, std::int64_t n, const std::string& how) {
    t.add({what, std::to_string(n), n ? how : ""});
  };
  add("duplicate interaction rows", r.duplicate_rows, "merged into the first copy");
  add("empty rating cells", r.missing_ratings, "taken from a duplicate, else the row dropped (" +
                                                   std::to_string(r.dropped_unrated) + " dropped)");
  add("empty review cells", r.missing_reviews, std::to_string(r.filled_reviews) + " still empty after merging, set to \"\"");
  add("empty timestamp cells", r.missing_timestamps,
      std::to_string(r.filled_timestamps) + " still empty after merging, filled from the user's neighbouring row");
  add("duplicate item rows", r.duplicate_items, "merged into the first copy");
  add("empty item fields", r.missing_genres + r.missing_directors + r.missing_actors + r.missing_descriptions,
      "set to \"\" (" + std::to_string(r.missing_genres) + " genres, " + std::to_string(r.missing_directors) +
          " directors, " + std::to_string(r.missing_actors) + " actors, " + std::to_string(r.missing_descriptions) +
          " descriptions)");
  add("rated items missing from the catalogue", r.unknown_items, "added with empty metadata");
  add("ratings not finite or off the scale " + r.rating_scale_text(), r.skipped_bad_rows, "row skipped (--on-bad-row skip)");
  std::printf("%s", t.to_string().c_str());
  std::printf("rating scale %s (%s)\n", r.rating_scale_text().c_str(),
              r.rating_scale_inferred ? "inferred: the lowest and highest finite rating; --rating-scale sets it" : "given");
  for (const std::string& note : r.bad_rows) std::printf("skipped %s\n", note.c_str());
  std::printf("clean: %lld users, %lld items, %lld interactions (%lld rows removed)\n",
              static_cast<long long>(data.num_users()), static_cast<long long>(data.num_items()),
              static_cast<long long>(data.size()), static_cast<long long>(r.rows_read - data.size()));
  if (args.given("out")) {
    data.save(args.str("out"), data.has_reviews());
    std::printf("wrote %s/: users.csv items.csv interactions.csv dataset.json\n", args.str("out").c_str());
  }
  return 0;
}

}  // namespace recsys::cli
