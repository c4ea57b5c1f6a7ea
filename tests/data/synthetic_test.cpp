// tests/data/synthetic_test.cpp — the synthetic movie site: file format, determinism, reported duplicates and missing values, bounded memory, and the Bayes-optimal accuracy against the generator's own probabilities.
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

#include <recsys/data/synthetic.hpp>

#include "test_util.hpp"

using namespace recsys;
using namespace recsys::data;
using doctest::Contains;
using recsys::testing::TempDir;

namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif

namespace fs = std::filesystem;

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

/// Minimal RFC 4180 reader (quoted fields, doubled quotes; no newlines inside our fields): rows of fields.
std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> fields(1);
    bool quoted = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
      const char c = line[i];
      if (quoted && c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        fields.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = !quoted;
      } else if (c == ',' && !quoted) {
        fields.emplace_back();
      } else {
        fields.back() += c;
      }
    }
    rows.push_back(std::move(fields));
  }
  return rows;
}

SyntheticConfig small_config() {
  SyntheticConfig c;
  c.users = 200;
  c.items = 400;
  c.ratings = 12000;
  c.seed = 7;
  c.duplicate_rate = 0.02;
  c.missing_rate = 0.03;
  return c;
}

/// Peak resident memory (VmHWM) in kB, after resetting it where Linux allows; -1 when unavailable.
long peak_rss_kb() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}
bool reset_peak_rss() {
  std::ofstream clear("/proc/self/clear_refs");
  clear << "5";
  return static_cast<bool>(clear);
}

bool is_positive_word(const std::string& w) {
  for (const char* p : synthetic_detail::kPositive)
    if (w == p) return true;
  return false;
}

}  // namespace

TEST_CASE("synthetic: the files have the documented columns, ids, values and counts") {
  const SyntheticConfig cfg = small_config();
  TempDir dir("format");
  const SyntheticSummary s = write_synthetic(dir.str(), cfg);
  const auto ratings = parse_csv(read_file(dir.path / "user_data.csv"));
  const auto items = parse_csv(read_file(dir.path / "item_data.csv"));
  REQUIRE(ratings.size() > 1);
  CHECK(ratings[0] == std::vector<std::string>{"user_id", "item_id", "rating", "review", "timestamp"});
  CHECK(items[0] == std::vector<std::string>{"item_id", "title", "genres", "director", "actors", "description"});
  CHECK(static_cast<std::int64_t>(ratings.size()) - 1 == s.rating_rows);
  CHECK(static_cast<std::int64_t>(items.size()) - 1 == s.item_rows);
  CHECK(s.ratings == cfg.ratings);
  CHECK(s.rating_rows == s.ratings + s.duplicate_rating_rows);
  CHECK(s.item_rows == cfg.items + s.duplicate_item_rows);

  std::set<std::string> genre_names;
  for (const auto& g : synthetic_detail::genres()) genre_names.insert(g.name);
  std::int64_t missing_genres = 0, missing_directors = 0, missing_actors = 0, missing_descriptions = 0;
  for (std::size_t r = 1; r < items.size(); ++r) {
    const auto& f = items[r];
    REQUIRE(f.size() == 6);
    const std::int64_t id = std::stoll(f[0]);
    CHECK((id >= 1 && id <= cfg.items));
    CHECK(f[1].size() > 7);  // "X (1999)"
    CHECK(f[1][f[1].size() - 1] == ')');
    missing_genres += f[2].empty();
    missing_directors += f[3].empty();
    missing_actors += f[4].empty();
    missing_descriptions += f[5].empty();
    if (!f[2].empty()) {
      std::istringstream gs(f[2]);
      int n = 0;
      for (std::string g; std::getline(gs, g, '|'); ++n) CHECK(genre_names.count(g) == 1);
      CHECK((n >= 1 && n <= 3));
    }
    if (!f[4].empty()) {
      const auto n_actors = std::count(f[4].begin(), f[4].end(), '|') + 1;
      CHECK((n_actors >= 2 && n_actors <= 4));
    }
  }
  CHECK(missing_genres == s.missing_genres);
  CHECK(missing_directors == s.missing_directors);
  CHECK(missing_actors == s.missing_actors);
  CHECK(missing_descriptions == s.missing_descriptions);

  std::int64_t missing_ratings = 0, missing_reviews = 0, missing_timestamps = 0;
  std::map<std::vector<std::string>, int> copies;
  for (std::size_t r = 1; r < ratings.size(); ++r) {
    const auto& f = ratings[r];
    REQUIRE(f.size() == 5);
    const std::int64_t user = std::stoll(f[0]), item = std::stoll(f[1]);
    CHECK((user >= 1 && user <= cfg.users));
    CHECK((item >= 1 && item <= cfg.items));
    missing_ratings += f[2].empty();
    missing_reviews += f[3].empty();
    missing_timestamps += f[4].empty();
    if (!f[2].empty()) CHECK((f[2] >= "1" && f[2] <= "5" && f[2].size() == 1));
    if (!f[4].empty()) {
      const std::int64_t t = std::stoll(f[4]);
      CHECK((t >= synthetic_detail::kTimeBegin && t < synthetic_detail::kTimeEnd));
    }
    ++copies[f];
  }
  CHECK(missing_ratings == s.missing_ratings);
  CHECK(missing_reviews == s.missing_reviews);
  CHECK(missing_timestamps == s.missing_timestamps);
  // Every duplicate is an exact copy of another row, so dropping exact duplicates removes exactly them.
  std::int64_t extra_copies = 0;
  for (const auto& [row, n] : copies) extra_copies += n - 1;
  CHECK(extra_copies == s.duplicate_rating_rows);

  // The rates are near what was asked (binomial counts; 5 standard deviations of slack).
  const auto near = [](std::int64_t count, double n, double p) {
    return std::fabs(static_cast<double>(count) - n * p) <= 5 * std::sqrt(n * p * (1 - p)) + 1;
  };
  const auto rows = static_cast<double>(s.rating_rows);
  CHECK(near(s.duplicate_rating_rows, static_cast<double>(s.ratings), cfg.duplicate_rate));
  CHECK(near(s.missing_ratings, rows, cfg.missing_rate));
  CHECK(near(s.missing_reviews, rows, cfg.missing_rate));
  CHECK(near(s.missing_timestamps, rows, cfg.missing_rate));
  CHECK(near(s.missing_genres, static_cast<double>(s.item_rows), cfg.missing_rate));

  // The summary file reports the same numbers.
  const json::Value summary = json::parse(read_file(dir.path / "synthetic_summary.json"));
  CHECK(summary.at("ratings").as_int64() == s.ratings);
  CHECK(summary.at("duplicate_rating_rows").as_int64() == s.duplicate_rating_rows);
  CHECK(summary.at("missing_reviews").as_int64() == s.missing_reviews);
  CHECK(summary.at("missing_descriptions").as_int64() == s.missing_descriptions);
  CHECK(std::fabs(summary.at("bayes_accuracy").as_double() - s.bayes_accuracy) <= 5e-7);
  CHECK(summary.at("like_label").as_string() == "rating >= 4");
}

TEST_CASE("synthetic: the same seed writes the same bytes for any thread count and another seed other bytes") {
  SyntheticConfig cfg = small_config();
  cfg.chunk_rows = 1000;  // several parallel chunks
  TempDir a("det_a"), b("det_b"), c("det_c");
#ifdef _OPENMP
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  write_synthetic(a.str(), cfg);
  omp_set_num_threads(2);
  write_synthetic(b.str(), cfg);
  omp_set_num_threads(threads);
#else
  write_synthetic(a.str(), cfg);
  write_synthetic(b.str(), cfg);
#endif
  for (const char* f : {"user_data.csv", "item_data.csv", "synthetic_summary.json"}) {
    CAPTURE(f);
    const std::string x = read_file(a.path / f);
    CHECK(!x.empty());
    CHECK(x == read_file(b.path / f));
  }
  cfg.seed = 8;
  write_synthetic(c.str(), cfg);
  CHECK(read_file(a.path / "user_data.csv") != read_file(c.path / "user_data.csv"));
  CHECK(read_file(a.path / "item_data.csv") != read_file(c.path / "item_data.csv"));
}

TEST_CASE("synthetic: each user rates distinct movies, in time order, as many as allocated") {
  const SyntheticConfig cfg = small_config();
  const SyntheticGenerator gen(cfg);
  std::map<std::int64_t, std::set<std::int64_t>> seen;
  std::map<std::int64_t, std::int64_t> last_time;
  std::int64_t previous_user = 0, total = 0;
  std::vector<std::int64_t> per_item(static_cast<std::size_t>(cfg.items), 0);
  gen.generate([&](const SyntheticRating& r) {
    CHECK(r.user_id >= previous_user);  // users in order
    previous_user = r.user_id;
    if (r.duplicate) return;
    ++total;
    ++per_item[static_cast<std::size_t>(r.item_id - 1)];
    CHECK(seen[r.user_id].insert(r.item_id).second);
    CHECK(r.timestamp >= last_time[r.user_id]);
    last_time[r.user_id] = r.timestamp;
  });
  CHECK(total == cfg.ratings);
  std::int64_t allocated = 0;
  for (std::int64_t u = 1; u <= cfg.users; ++u) {
    const std::int64_t n = gen.ratings_of_user(u);
    allocated += n;
    CHECK(static_cast<std::int64_t>(seen[u].size()) == n);
    CHECK(n >= cfg.min_ratings_per_user);
    CHECK(n <= static_cast<std::int64_t>(cfg.max_user_fraction * cfg.items));
  }
  CHECK(allocated == cfg.ratings);
  // Popularity is skewed: the top 10% of movies collect well over 10% of the ratings.
  std::sort(per_item.begin(), per_item.end(), std::greater<>());
  std::int64_t top = 0;
  for (std::size_t i = 0; i < per_item.size() / 10; ++i) top += per_item[i];
  INFO("top 10% of movies hold ", top, " of ", total, " ratings");
  CHECK(top > total / 4);
}

TEST_CASE("synthetic: the Bayes-optimal accuracy is the accuracy of the generator's true probabilities") {
  SyntheticConfig cfg = small_config();
  cfg.ratings = kSanitized ? 12000 : 40000;
  const SyntheticGenerator gen(cfg);
  double sum_best = 0, sum_sq_rating = 0;
  std::int64_t n = 0, checked_api = 0;
  std::array<double, 10> bin_p{}, bin_like{};
  std::array<std::int64_t, 10> bin_n{};
  const SyntheticSummary s = gen.generate([&](const SyntheticRating& r) {
    if (r.duplicate) return;
    ++n;
    const double p = r.like_probability;
    sum_best += std::max(p, 1 - p);
    sum_sq_rating += (r.rating - r.expected_rating) * (r.rating - r.expected_rating);
    const auto bin = std::min<std::size_t>(9, static_cast<std::size_t>(p * 10));
    bin_p[bin] += p;
    bin_like[bin] += r.rating >= 4;
    ++bin_n[bin];
    if (n % 97 == 0) {  // the public API recomputes the same probability from the parameters
      CHECK(gen.like_probability(r.user_id, r.item_id) == r.like_probability);
      CHECK(gen.expected_rating(r.user_id, r.item_id) == r.expected_rating);
      ++checked_api;
    }
  });
  CHECK(checked_api > 100);
  REQUIRE(n == cfg.ratings);
  // The summary is the mean of max(p, 1 - p) over the distinct events.
  CHECK(std::fabs(s.bayes_accuracy - sum_best / static_cast<double>(n)) < 1e-12);
  // The probabilities are the ones the labels were drawn with: in every bin of p the share of
  // likes matches the mean p within 4 binomial standard errors.
  for (std::size_t b = 0; b < 10; ++b) {
    if (bin_n[b] < 50) continue;
    const double mean_p = bin_p[b] / static_cast<double>(bin_n[b]);
    const double rate = bin_like[b] / static_cast<double>(bin_n[b]);
    const double se = std::sqrt(std::max(mean_p * (1 - mean_p), 0.01) / static_cast<double>(bin_n[b]));
    INFO("bin ", b, ": ", bin_n[b], " events, mean p ", mean_p, ", like rate ", rate);
    CHECK(std::fabs(rate - mean_p) < 4 * se);
  }
  // Predicting like exactly when p > 1/2 scores the Bayes accuracy on the sample's labels.
  const double se = std::sqrt(s.bayes_accuracy * (1 - s.bayes_accuracy) / static_cast<double>(n));
  INFO("bayes ", s.bayes_accuracy, ", oracle on this sample ", s.oracle_accuracy);
  CHECK(std::fabs(s.oracle_accuracy - s.bayes_accuracy) < 4 * se);
  // E[rating] predicts the ratings with RMSE bayes_rating_rmse (within a few percent).
  CHECK(std::fabs(std::sqrt(sum_sq_rating / static_cast<double>(n)) - s.bayes_rating_rmse) < 0.03 * s.bayes_rating_rmse);
  // A perfect model beats guessing the majority class by a wide margin, and stays far from 1.
  CHECK(s.bayes_accuracy > std::max(s.like_rate, 1 - s.like_rate) + 0.1);
  CHECK(s.bayes_accuracy < 0.9);

  // A fresh sample (another seed: new users, movies and noise) has nearly the same ceiling, and the
  // p > 1/2 rule scores about as much on its own labels.
  cfg.seed = 1234;
  const SyntheticSummary fresh = SyntheticGenerator(cfg).generate([](const SyntheticRating&) {});
  INFO("first ", s.bayes_accuracy, ", fresh ", fresh.bayes_accuracy, " (oracle on fresh labels ", fresh.oracle_accuracy,
       ")");
  CHECK(std::fabs(fresh.bayes_accuracy - s.bayes_accuracy) < 0.02);
  CHECK(std::fabs(fresh.oracle_accuracy - s.bayes_accuracy) < 0.02);
}

TEST_CASE("synthetic: reviews track the rating, with mixed sentiment") {
  const SyntheticGenerator gen(small_config());
  std::array<double, 5> positive_share{};
  std::array<std::int64_t, 5> count{};
  std::int64_t low_with_praise = 0, low = 0, quoted = 0;
  gen.generate([&](const SyntheticRating& r) {
    std::istringstream words(r.review);
    int pos = 0, total = 0;
    for (std::string w; words >> w; ++total) {
      while (!w.empty() && (w.back() == '.' || w.back() == '!')) w.pop_back();
      pos += is_positive_word(synthetic_detail::ascii_lower(w));
    }
    quoted += r.review.find('"') != std::string::npos;
    CHECK(total > 0);
    positive_share[static_cast<std::size_t>(r.rating - 1)] += static_cast<double>(pos) / total;
    ++count[static_cast<std::size_t>(r.rating - 1)];
    if (r.rating <= 2) {
      ++low;
      low_with_praise += pos > 0;
    }
  });
  for (int r = 1; r < 5; ++r) {
    CAPTURE(r);
    CHECK(positive_share[static_cast<std::size_t>(r)] / count[static_cast<std::size_t>(r)] >
          positive_share[static_cast<std::size_t>(r - 1)] / count[static_cast<std::size_t>(r - 1)]);
  }
  // Not trivially separable: many low ratings still praise something.
  INFO(low_with_praise, " of ", low, " reviews rated 1-2 contain a positive word");
  CHECK(low_with_praise > low / 5);
  CHECK(quoted > 0);  // titles in quotes exercise CSV quoting
}

TEST_CASE("synthetic: memory stays bounded while streaming many ratings") {
  SyntheticConfig cfg;
  cfg.users = 5000;
  cfg.items = 4000;
  cfg.ratings = kSanitized ? 60000 : 300000;
  cfg.chunk_rows = 4096;
  const SyntheticGenerator gen(cfg);
  std::int64_t largest_user = 0;
  for (std::int64_t u = 1; u <= cfg.users; ++u) largest_user = std::max(largest_user, gen.ratings_of_user(u));
  const bool rss = !kSanitized && reset_peak_rss();
  const long before = peak_rss_kb();
  std::int64_t rows = 0, bytes = 0;
  const SyntheticSummary s = gen.generate([&](const SyntheticRating& r) {
    ++rows;
    bytes += static_cast<std::int64_t>(r.review.size());
  });
  CHECK(rows == s.rating_rows);
  // Only one chunk of users is ever held: at most chunk_rows plus one user's rows (and their copies).
  INFO("peak buffered rows ", s.peak_buffered_rows, ", largest user ", largest_user);
  CHECK(s.peak_buffered_rows <= 2 * (cfg.chunk_rows + largest_user));
  CHECK(s.peak_buffered_rows < rows / 10);
  if (rss) {
    const long grown_kb = peak_rss_kb() - before;
    INFO("peak RSS grew by ", grown_kb, " kB while streaming ", rows, " rows holding ", bytes, " review bytes");
    CHECK(grown_kb * 1024 < bytes / 2);  // holding the rows would take more than all their review text
  } else {
    MESSAGE("peak RSS not measured (sanitizer build or no /proc/self/clear_refs)");
  }
}

TEST_CASE("synthetic: tiny and lopsided configurations still produce exactly the asked-for ratings") {
  SyntheticConfig cfg;
  cfg.users = 600;
  cfg.items = 30;
  cfg.ratings = 1000;
  const SyntheticGenerator gen(cfg);
  std::int64_t rows = 0;
  const SyntheticSummary s = gen.generate([&](const SyntheticRating& r) { rows += !r.duplicate; });
  CHECK(rows == 1000);
  CHECK(s.ratings == 1000);
  cfg.users = 3;
  cfg.items = 10;
  cfg.ratings = 15;  // every user at the cap of 5
  CHECK(SyntheticGenerator(cfg).generate([](const SyntheticRating&) {}).ratings == 15);
  for (std::int64_t u = 1; u <= 3; ++u) CHECK(SyntheticGenerator(cfg).ratings_of_user(u) == 5);
}

TEST_CASE("synthetic: configuration errors") {
  const auto make = [](auto edit) {
    SyntheticConfig c;
    edit(c);
    return SyntheticGenerator(c);
  };
  CHECK_THROWS_WITH_AS(make([](SyntheticConfig& c) { c.users = 0; }), Contains("synthetic: users must be in [1, 2^31), got 0"),
                       Error);
  CHECK_THROWS_WITH_AS(make([](SyntheticConfig& c) { c.items = 1; }), Contains("synthetic: items must be in [2, 2^31), got 1"),
                       Error);
  CHECK_THROWS_WITH_AS(make([](SyntheticConfig& c) { c.ratings = 0; }),
                       Contains("synthetic: ratings must be at least 1, got 0"), Error);
  CHECK_THROWS_WITH_AS(make([](SyntheticConfig& c) { c.duplicate_rate = 0.7; }),
                       Contains("synthetic: duplicate_rate must be in [0, 0.5], got 0.7"), Error);
  CHECK_THROWS_WITH_AS(make([](SyntheticConfig& c) { c.missing_rate = -0.1; }),
                       Contains("synthetic: missing_rate must be in [0, 0.5], got -0.1"), Error);
  CHECK_THROWS_WITH_AS(make([](SyntheticConfig& c) { c.noise_sd = 0; }), Contains("synthetic: noise_sd must be positive"),
                       Error);
  CHECK_THROWS_WITH_AS(make([](SyntheticConfig& c) { c.thresholds = {0, -1, 1, 2}; }),
                       Contains("synthetic: thresholds must increase, got 0, -1, 1, 2"), Error);
  CHECK_THROWS_WITH_AS(make([](SyntheticConfig& c) { c.latent_dim = 0; }),
                       Contains("synthetic: latent_dim must be in [1, 256], got 0"), Error);
  CHECK_THROWS_WITH_AS(make([](SyntheticConfig& c) {
                         c.users = 10;
                         c.items = 100;
                         c.ratings = 501;
                       }),
                       Contains("synthetic: 501 ratings do not fit 10 users rating at most 50 of 100 movies each"), Error);
  const SyntheticGenerator gen(small_config());
  CHECK_THROWS_WITH_AS(gen.like_probability(0, 1), Contains("synthetic: user_id 0 is outside 1..200"), Error);
  CHECK_THROWS_WITH_AS(gen.expected_rating(1, 401), Contains("synthetic: item_id 401 is outside 1..400"), Error);
  CHECK_THROWS_WITH_AS(gen.ratings_of_user(201), Contains("synthetic: user_id 201 is outside 1..200"), Error);
}
