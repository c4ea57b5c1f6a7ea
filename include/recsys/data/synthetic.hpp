// recsys/data/synthetic.hpp — the built-in synthetic movie site: a documented generative model that streams user_data.csv and item_data.csv and reports the Bayes-optimal accuracy of the like label.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "recsys/core/error.hpp"
#include "recsys/core/random.hpp"
#include "recsys/data/csv_writer.hpp"
#include "recsys/io/atomic_file.hpp"
#include "recsys/io/json.hpp"

namespace recsys::data {

// =============================================================================================
// The generative story (every random draw comes from recsys::Generator, so a seed gives the same
// files on every machine and for any number of OpenMP threads; see "Determinism" below).
//
// CATALOGUE. 18 genres g with prior shares pi_g (Drama and Comedy commonest). D = max(8, items/6)
// directors, each with a home genre ~ pi and a quality q_d ~ N(0, 0.3^2); A = max(24, items/2)
// actors, each with a home genre ~ pi and a star power s_a ~ N(0, 0.2^2). Prolific directors and
// famous actors recur: picks follow Zipf weights 1/(rank+1)^0.6 (directors) and ^0.8 (actors).
// Movie i: director d_i ~ Zipf; primary genre = d_i's home genre with probability 0.6, else ~ pi;
// a second genre with probability 0.55 and then a third with probability 0.2; 2-4 actors, each
// from the primary genre's actors with probability 0.5, else ~ Zipf; release year 1960-2014,
// skewed recent; title and description from genre-specific words plus the people's names.
//   item bias     b_i = q_{d_i} + mean_a s_a + N(0, 0.35^2)
//   item factors  v_i ~ N(0, factor_sd^2 I_k)
//   popularity    w_i = (1 / (rank_i + 1))^popularity_exponent * exp(0.6 b_i),
//                 rank_i a random permutation: a few blockbusters, a long tail, quality helps.
// USERS. Genre tastes t_ug ~ N(0, 0.35^2), plus 0.9 on two favourite genres and minus 0.9 on one
// disliked genre (drawn ~ pi); harshness h_u ~ N(0, 0.35^2); factors p_u ~ N(0, factor_sd^2 I_k);
// activity a_u = exp(N(0, 1)) (log-normal: most users rate a little, a few rate a lot); a review
// tone tau_u ~ N(0, 0.4^2) (some people write warmly whatever they think); a join date.
// WHO RATES WHAT. User u rates n_u distinct movies, n_u proportional to a_u (at least
// min_ratings_per_user, at most max_user_fraction of the catalogue, summing to `ratings`). Movies
// are drawn without replacement with probability proportional to
//   w_i * exp(selection_strength * taste_ui),   taste_ui = genre_weight * mean_{g in genres(i)} t_ug
// (people watch what is popular and what they expect to like: the data are missing not at random).
// RATINGS (an ordered probit):
//   z_ui = b_i - h_u + taste_ui + p_u . v_i          latent affinity
//   r_ui = 1 + #{ j : z_ui + eps > c_j },  eps ~ N(0, noise_sd^2),  c = thresholds (4 cut points)
// so P(r_ui >= 4) = Phi((z_ui - c_3) / noise_sd): the like probability of the pair. Timestamps are
// uniform between the user's join date and 2025-01-01; each user's rows are in time order.
// REVIEWS. A review is 1-4 aspect clauses ("the pacing was a bit dull"), often a verdict ("skip
// this one"), sometimes a mention of the cast, director, genre or title, and filler ("saw it last
// weekend"). Each clause is positive with probability sigmoid(logit(P_r) + tau_u), P_r =
// (0.12, 0.27, 0.5, 0.73, 0.88) for r = 1..5; 15% of "the X was ..." clauses are negated ("not bad");
// clauses of opposite sign are often joined by "but". Verdicts are surer (P(positive) = 0.03, 0.08,
// 0.35, 0.9, 0.97) and neutral ("nothing special") for many 3s. So words track the rating, with
// mixed sentiment, negation, per-user tone and words shared with titles and descriptions: the like
// label can be learned from the text, but not read off it.
// CORRUPTION, so that cleaning matters: each nullable field (rating, review and timestamp in
// user_data.csv; genres, director, actors and description in item_data.csv) is left empty with
// probability missing_rate, independently; each row is written a second time, identically, with
// probability duplicate_rate (a rating row's copy lands later in the same user's rows, an item's
// copy right after it). The summary counts both per written row (a copied row with an empty field
// counts twice), so they match what a reader of the files finds.
// BAYES-OPTIMAL ACCURACY. The best any model of (user, movie) can do on the like label is to predict
// 1 exactly when p_ui = P(r_ui >= 4) > 1/2, which is right with probability max(p_ui, 1 - p_ui).
// The summary reports bayes_accuracy = the mean of max(p, 1 - p) over the distinct rating events
// (what a perfect model reaches in expectation on a random held-out split), and oracle_accuracy, the
// accuracy that rule actually scored against this sample's labels. Likewise bayes_rating_rmse =
// sqrt(mean Var(r | u, i)) bounds the RMSE of any rating predictor.
// FILES. user_data.csv: user_id,item_id,rating,review,timestamp; item_data.csv: item_id,title,
// genres,director,actors,description. Ids are 1-based; genres and actors are '|'-separated; titles
// end in " (year)"; an empty field is a missing value. At the default size (seed 42) the like rate is
// 0.56 and bayes_accuracy 0.78; for reference, a logistic regression on user and item one-hots scores
// about 0.65 on a random 20% split, and one on the review's words and word pairs about 0.79.
// Determinism: Philox streams are keyed per entity (each user, each movie) so the output does not
// depend on thread count or generation order. Integer and string outputs depend on floating point
// only through comparisons with random thresholds, and libm differences between platforms are a few
// ulps, so files agree byte for byte except with a probability of order 1e-9 per file at 10 million
// ratings; the summary's real numbers are rounded to 6 decimals for the same reason.
// =============================================================================================

/// Sizes, seed, corruption rates and model strengths of the synthetic movie site.
struct SyntheticConfig {
  std::int64_t users = 600;
  std::int64_t items = 1500;
  std::int64_t ratings = 50000;  ///< distinct (user, movie) ratings; duplicate rows come on top
  std::uint64_t seed = 42;
  double duplicate_rate = 0.01;  ///< share of rows written twice (rating rows and item rows)
  double missing_rate = 0.01;    ///< chance that each nullable field is left empty
  std::int64_t min_ratings_per_user = 10;
  double max_user_fraction = 0.5;  ///< no user rates more than this share of the catalogue
  int latent_dim = 8;
  double factor_sd = 0.45;
  double genre_weight = 1.0;
  double selection_strength = 1.0;
  double popularity_exponent = 0.9;
  double noise_sd = 0.75;
  std::array<double, 4> thresholds{-1.55, -0.83, 0.12, 1.21};
  std::int64_t chunk_rows = 8192;  ///< rating rows generated (in parallel) before they are handed on
};

/// One rating event, or its duplicate copy, with the ground truth the files do not show.
struct SyntheticRating {
  std::int64_t user_id = 0;  ///< 1-based, as in user_data.csv
  std::int64_t item_id = 0;  ///< 1-based, as in item_data.csv
  int rating = 0;            ///< 1..5 (the true one, also when rating_missing)
  std::string review;
  std::int64_t timestamp = 0;  ///< Unix seconds
  bool rating_missing = false, review_missing = false, timestamp_missing = false;
  bool duplicate = false;     ///< this row repeats an earlier one
  double like_probability = 0;  ///< the generator's P(rating >= 4) for this (user, movie)
  double expected_rating = 0;   ///< the generator's E[rating] for this (user, movie)
};

/// One movie row of item_data.csv.
struct SyntheticItem {
  std::int64_t item_id = 0;
  std::string title, genres, director, actors, description;  ///< genres and actors are '|'-separated
  bool genres_missing = false, director_missing = false, actors_missing = false, description_missing = false;
  bool duplicate = false;
};

/// What was generated: counts of rows, duplicates and missing values, and the best achievable scores.
struct SyntheticSummary {
  std::int64_t users = 0, items = 0, ratings = 0;
  std::int64_t rating_rows = 0, duplicate_rating_rows = 0;
  std::int64_t missing_ratings = 0, missing_reviews = 0, missing_timestamps = 0;
  std::int64_t item_rows = 0, duplicate_item_rows = 0;
  std::int64_t missing_genres = 0, missing_directors = 0, missing_actors = 0, missing_descriptions = 0;
  std::array<std::int64_t, 5> rating_counts{};  ///< distinct events per true rating 1..5
  double like_rate = 0;                         ///< share of distinct events rated 4 or 5
  double bayes_accuracy = 0;                    ///< mean of max(p, 1 - p): a perfect model's expected accuracy
  double oracle_accuracy = 0;                   ///< accuracy of (p > 1/2) against this sample's labels
  double bayes_rating_rmse = 0;                 ///< sqrt(mean Var(rating | user, movie))
  std::int64_t peak_buffered_rows = 0;          ///< most rating rows held in memory at once
};

namespace synthetic_detail {

constexpr int kGenres = 18;

/// A genre's name, its share of movies, and the words its titles, descriptions and reviews draw on.
struct Genre {
  const char* name;
  double share;
  std::array<const char*, 8> nouns;
  std::array<const char*, 4> adjectives;
  std::array<const char*, 3> plots;
};

inline const std::array<Genre, kGenres>& genres() {
  static const std::array<Genre, kGenres> table{{
      {"Action", 0.09, {"Mission", "Strike", "Fury", "Target", "Escape", "Agent", "Siege", "Chase"},
       {"Deadly", "Final", "Rogue", "Relentless"},
       {"must stop a heist before the city burns", "is framed for a crime and goes on the run",
        "leads one last rescue mission behind enemy lines"}},
      {"Adventure", 0.06, {"Quest", "Island", "Treasure", "Voyage", "Jungle", "Map", "Expedition", "Kingdom"},
       {"Lost", "Hidden", "Wild", "Distant"},
       {"sets out to find a legendary treasure", "survives a shipwreck on an uncharted island",
        "crosses a mountain range to bring a message home"}},
      {"Animation", 0.04, {"Dragon", "Robot", "Forest", "Friends", "Toy", "Bunny", "Cloud", "Balloon"},
       {"Little", "Magic", "Brave", "Tiny"},
       {"discovers a magical world beneath the garden", "teams up with a clumsy robot to save the town",
        "learns to fly with the help of unlikely friends"}},
      {"Comedy", 0.14, {"Wedding", "Roommates", "Vacation", "Neighbors", "Party", "Boss", "Weekend", "Trouble"},
       {"Crazy", "Awkward", "Big", "Accidental"},
       {"accidentally books two weddings on the same day", "swaps lives with a rival for one chaotic week",
        "tries to win back an ex with a terrible plan"}},
      {"Crime", 0.06, {"Heist", "Mob", "Detective", "Verdict", "Alibi", "Syndicate", "Street", "Ransom"},
       {"Dirty", "Cold", "Perfect", "Crooked"},
       {"plans the perfect bank heist with an unreliable crew", "infiltrates a crime family to avenge a brother",
        "defends a client who is almost certainly guilty"}},
      {"Documentary", 0.03, {"Planet", "Ocean", "Portrait", "Truth", "Voices", "Journey", "Archive", "Climate"},
       {"Untold", "Real", "Inside", "Secret"},
       {"follows a team of scientists through a year in Antarctica", "tells the story of a forgotten jazz band",
        "investigates the collapse of a global bank"}},
      {"Drama", 0.16, {"Letters", "River", "Father", "Promise", "Silence", "Winter", "Home", "Memory"},
       {"Quiet", "Broken", "Long", "Last"},
       {"returns home to care for an ailing father", "struggles to keep the family farm after a drought",
        "confronts a painful secret from the past"}},
      {"Family", 0.04, {"Puppy", "Summer", "Christmas", "Camp", "Grandpa", "Pony", "Holiday", "Treehouse"},
       {"Happy", "Little", "Big", "Merry"},
       {"spends a summer on a farm with a mischievous puppy", "tries to save the town's holiday parade",
        "builds a treehouse with a new stepbrother"}},
      {"Fantasy", 0.05, {"Sword", "Wizard", "Throne", "Realm", "Prophecy", "Dragon", "Crown", "Spell"},
       {"Enchanted", "Dark", "Ancient", "Eternal"},
       {"is chosen by an ancient prophecy to defeat a dark lord", "steals a cursed crown from a sleeping dragon",
        "learns forbidden magic to save a dying realm"}},
      {"History", 0.03, {"Empire", "Revolution", "Queen", "Battle", "Republic", "Century", "Dynasty", "Treaty"},
       {"Glorious", "Iron", "Last", "Royal"},
       {"rises from a peasant to advise the queen", "fights to end an unjust war",
        "drafts a treaty that changes a nation"}},
      {"Horror", 0.06, {"Curse", "Ghost", "Asylum", "Cabin", "Witch", "Nightmare", "Shadow", "Ritual"},
       {"Haunted", "Cursed", "Silent", "Evil"},
       {"moves into a house with a terrible past", "wakes an ancient evil during a camping trip",
        "is haunted by a ghost that only children can see"}},
      {"Music", 0.02, {"Song", "Band", "Stage", "Rhythm", "Melody", "Tour", "Album", "Concert"},
       {"Loud", "Golden", "Electric", "Sweet"},
       {"reunites an old band for one final tour", "chases a record deal in a city of broken dreams",
        "teaches a choir of misfits to sing"}},
      {"Mystery", 0.04, {"Secret", "Clue", "Manor", "Disappearance", "Riddle", "Key", "Stranger", "Letter"},
       {"Missing", "Strange", "Hidden", "Locked"},
       {"investigates a disappearance in a remote village", "inherits a manor full of locked rooms",
        "solves a riddle left by a dead grandfather"}},
      {"Romance", 0.07, {"Love", "Heart", "Kiss", "Paris", "Summer", "Wedding", "Promise", "Moonlight"},
       {"Sweet", "Endless", "Second", "Sudden"},
       {"falls for a stranger met on a delayed train", "rekindles a first love during a summer in Paris",
        "writes letters to a soldier overseas"}},
      {"Sci-Fi", 0.06, {"Planet", "Star", "Signal", "Galaxy", "Android", "Orbit", "Colony", "Future"},
       {"Dark", "Infinite", "Red", "Artificial"},
       {"receives a signal from a distant star", "wakes up alone on a drifting spaceship",
        "leads the first colony on a hostile planet"}},
      {"Thriller", 0.08, {"Conspiracy", "Witness", "Hostage", "Trap", "Deadline", "Code", "Hunt", "Betrayal"},
       {"Deadly", "Silent", "Hidden", "Fatal"},
       {"witnesses a murder and becomes the next target", "uncovers a conspiracy inside the government",
        "must solve a puzzle before a bomb goes off"}},
      {"War", 0.02, {"Front", "Soldier", "Trench", "Battalion", "Beach", "Bomber", "Line", "Victory"},
       {"Bloody", "Last", "Iron", "Brave"},
       {"leads a platoon behind enemy lines", "survives the longest winter of the war",
        "carries a message across a burning front"}},
      {"Western", 0.02, {"Outlaw", "Sheriff", "Frontier", "Gold", "Canyon", "Rider", "Saloon", "Bounty"},
       {"Wild", "Dusty", "Lonesome", "Wicked"},
       {"hunts the outlaw who burned down the ranch", "defends a frontier town from a gang of bandits",
        "rides across the desert with stolen gold"}},
  }};
  return table;
}

inline constexpr std::array<const char*, 48> kFirstNames{
    "Ana",   "Ben",    "Chloe", "David", "Elena", "Farid", "Grace",  "Hiro",   "Ines",  "Jonas", "Kira",  "Liam",
    "Maya",  "Noah",   "Olga",  "Pedro", "Quinn", "Rosa",  "Samir",  "Tara",   "Umar",  "Vera",  "Wes",   "Xenia",
    "Yusuf", "Zoe",    "Aaron", "Bea",   "Carlos", "Dana", "Emil",   "Fiona",  "Goran", "Hana",  "Ivan",  "Julia",
    "Kofi",  "Lena",   "Marco", "Nina",  "Oscar", "Priya", "Rafael", "Sofia",  "Tomas", "Uma",   "Victor", "Wen"};
inline constexpr std::array<const char*, 48> kLastNames{
    "Silva",   "Berg",    "Novak",  "Okafor",  "Tanaka", "Moreau", "Schmidt", "Kowalski", "Rossi",   "Haddad",
    "Larsen",  "Chen",    "Murphy", "Ivanova", "Costa",  "Nguyen", "Fischer", "Lindqvist", "Patel",  "Garcia",
    "Kim",     "Dubois",  "Walsh",  "Sato",    "Mendes", "Horvat", "Weber",   "Ahmed",    "Olsen",   "Romero",
    "Bianchi", "Kaur",    "Reyes",  "Price",   "Stone",  "Webb",   "Yilmaz",  "Andersen", "Ferreira", "Clarke",
    "Mori",    "Petrov",  "Santos", "Hughes",  "Nakamura", "Vargas", "Quinn",  "Blake"};

inline constexpr std::array<const char*, 16> kProtagonists{
    "a retired detective",  "a young nurse",       "two estranged sisters", "a small-town teacher",
    "a disgraced pilot",    "an ambitious journalist", "a lonely widower",  "a teenage runaway",
    "a struggling musician", "a brilliant engineer", "a former soldier",     "a single mother",
    "an aging actor",       "a shy student",       "a stubborn farmer",     "a rookie cop"};
inline constexpr std::array<const char*, 10> kSettings{
    "in a small coastal town", "in 1970s New York",       "in a near-future city", "in the Scottish highlands",
    "on a remote island",      "in a snowbound village",  "across the American West", "in wartime London",
    "in a crumbling mansion",  "in the suburbs of Tokyo"};
inline constexpr std::array<const char*, 10> kTones{"gripping", "heartfelt", "darkly funny", "stylish", "quiet",
                                                    "sprawling", "tense",     "warm",         "bleak",   "playful"};

inline constexpr std::array<const char*, 24> kPositive{
    "great",  "excellent", "wonderful", "brilliant", "amazing", "superb",     "enjoyable", "fantastic",
    "beautiful", "moving", "gripping",  "clever",    "charming", "delightful", "outstanding", "memorable",
    "fun",    "solid",     "impressive", "stunning", "touching", "engaging",   "perfect",   "refreshing"};
inline constexpr std::array<const char*, 24> kNegative{
    "boring", "awful",   "terrible", "dull",      "weak",     "predictable", "bland",  "clumsy",
    "messy",  "tedious", "forgettable", "disappointing", "poor", "bad",      "lazy",   "annoying",
    "confusing", "flat", "painful",  "overlong",  "silly",    "cheap",       "lifeless", "pointless"};
inline constexpr std::array<const char*, 10> kIntensifiers{"very",   "really", "quite",    "truly",      "incredibly",
                                                           "so",     "rather", "pretty",   "absolutely", "a bit"};
inline constexpr std::array<const char*, 20> kAspects{
    "acting",   "plot",    "story",   "script",  "dialogue", "pacing", "soundtrack", "music",   "cinematography",
    "visuals",  "ending",  "characters", "direction", "editing", "effects", "cast",     "humor",   "atmosphere",
    "premise",  "twist"};
inline constexpr std::array<const char*, 8> kVerdictPositive{
    "highly recommended", "a must see", "worth watching",  "I would watch it again",
    "loved it",           "two thumbs up", "one of the best # films I have seen", "definitely worth your time"};
inline constexpr std::array<const char*, 8> kVerdictNegative{
    "not worth the time", "skip this one", "a waste of time", "I would not recommend it",
    "hard to sit through", "I want those two hours back", "one of the worst # films I have seen", "save your money"};
inline constexpr std::array<const char*, 6> kVerdictNeutral{"it was okay",  "nothing special",
                                                            "mixed feelings overall", "an average # film",
                                                            "decent but forgettable", "fine for a lazy evening"};
inline constexpr std::array<const char*, 9> kFillers{
    "watched it with my family", "saw it last weekend",     "went in with high expectations",
    "went in with low expectations", "rewatched it recently", "saw it at the cinema",
    "caught it on a streaming service", "my friends recommended it", "I had read about it online"};

/// P(an aspect clause is positive) and P(a verdict is positive) for ratings 1..5.
inline constexpr std::array<double, 5> kClausePositive{0.12, 0.27, 0.5, 0.73, 0.88};
inline constexpr std::array<double, 5> kVerdictPositiveProb{0.03, 0.08, 0.35, 0.9, 0.97};

constexpr std::int64_t kTimeBegin = 1420070400;  // 2015-01-01T00:00:00Z
constexpr std::int64_t kTimeEnd = 1735689600;    // 2025-01-01T00:00:00Z

/// Distinct Philox keys for the independent parts of the story.
enum class Stream : std::uint64_t { people = 1, item, item_text, user, activity, ranks };

/// splitmix64 finaliser: spreads (seed, stream) into an unrelated 64-bit Philox key.
inline std::uint64_t mix(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

/// The random stream of entity `index` of kind `s`: 2^32 counter blocks of its own.
inline Generator stream(std::uint64_t seed, Stream s, std::uint64_t index) {
  const std::uint64_t key = mix(seed ^ mix(static_cast<std::uint64_t>(s)));
  Generator g(key);
  g.set_state(key, index << 32);
  return g;
}

inline double normal_cdf(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }
inline double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }
inline double logit(double p) { return std::log(p / (1.0 - p)); }

template <class Array>
const char* pick(const Array& words, Generator& g) {
  return words[g.below(words.size())];
}

/// Index drawn with probability proportional to cumulative weights `cdf` (last element = total).
inline std::size_t draw_cdf(const std::vector<double>& cdf, Generator& g) {
  const double u = g.uniform() * cdf.back();
  const auto it = std::upper_bound(cdf.begin(), cdf.end(), u);
  return std::min(static_cast<std::size_t>(it - cdf.begin()), cdf.size() - 1);
}

/// Vose's alias table: O(1) draws from a fixed discrete distribution.
class AliasTable {
 public:
  AliasTable() = default;
  explicit AliasTable(const std::vector<double>& weights) {
    const std::size_t n = weights.size();
    double total = 0;
    for (double w : weights) total += w;
    prob_.assign(n, 0.0);
    alias_.assign(n, 0);
    std::vector<double> scaled(n);
    std::vector<std::uint32_t> small, large;
    for (std::size_t i = 0; i < n; ++i) {
      scaled[i] = weights[i] * static_cast<double>(n) / total;
      (scaled[i] < 1.0 ? small : large).push_back(static_cast<std::uint32_t>(i));
    }
    while (!small.empty() && !large.empty()) {
      const std::uint32_t s = small.back(), l = large.back();
      small.pop_back();
      prob_[s] = scaled[s];
      alias_[s] = l;
      scaled[l] = (scaled[l] + scaled[s]) - 1.0;
      if (scaled[l] < 1.0) {
        large.pop_back();
        small.push_back(l);
      }
    }
    for (std::uint32_t i : large) prob_[i] = 1.0;
    for (std::uint32_t i : small) prob_[i] = 1.0;  // leftovers from rounding
  }
  /// One draw: a column chosen uniformly, then the column's own index or its alias.
  std::size_t sample(Generator& g) const {
    const double u = g.uniform() * static_cast<double>(prob_.size());
    const auto i = std::min(static_cast<std::size_t>(u), prob_.size() - 1);
    return (u - static_cast<double>(i)) < prob_[i] ? i : alias_[i];
  }

 private:
  std::vector<double> prob_;
  std::vector<std::uint32_t> alias_;
};

/// A person's name from an index: 48 x 48 first/last combinations, then middle initials.
inline std::string person_name(std::int64_t index) {
  const std::size_t f = static_cast<std::size_t>(index % 48);
  const std::size_t b = static_cast<std::size_t>((index / 48) % 48);
  std::string name = kFirstNames[f];
  name += ' ';
  // Generation 0 has no initial, then "A." ... "Z.", "A. A." ...: bijective base 26, so names stay unique.
  for (std::int64_t gen = index / (48 * 48); gen > 0; gen = (gen - 1) / 26) {
    name += static_cast<char>('A' + (gen - 1) % 26);
    name += ". ";
  }
  name += kLastNames[(b + 5 * f) % 48];  // for a fixed first name, b -> last name is a bijection
  return name;
}

inline std::string last_name(const std::string& full) { return full.substr(full.rfind(' ') + 1); }

inline std::string ascii_lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

inline std::string ascii_capitalize(std::string s) {
  if (!s.empty() && s[0] >= 'a' && s[0] <= 'z') s[0] = static_cast<char>(s[0] - 'a' + 'A');
  return s;
}

/// Replaces '#' in a phrase by the word (a genre name in verdicts).
inline std::string fill_genre(const char* phrase, const std::string& word) {
  std::string s = phrase;
  const auto at = s.find('#');
  if (at != std::string::npos) s.replace(at, 1, word);
  return s;
}

/// The parameters of one movie the ratings need (its text is regenerated from them when written).
struct Movie {
  std::array<std::int8_t, 3> genres{-1, -1, -1};
  int n_genres = 0;
  std::int32_t director = 0;
  std::array<std::int32_t, 4> actors{};
  int n_actors = 0;
  int year = 0;
  double bias = 0;
  std::vector<double> factors;
};

/// One user's parameters (regenerated from the user's stream when needed, never stored for all users).
struct User {
  std::array<double, kGenres> taste{};
  double harshness = 0, tone = 0;
  std::vector<double> factors;
  std::int64_t join = 0;
};

}  // namespace synthetic_detail

/// The synthetic movie site: build it from a config, then stream or write its data.
class SyntheticGenerator {
 public:
  using RatingSink = std::function<void(const SyntheticRating&)>;
  using ItemSink = std::function<void(const SyntheticItem&)>;

  explicit SyntheticGenerator(SyntheticConfig config) : config_(std::move(config)) {
    validate();
    build_people();
    build_movies();
    allocate_ratings();
  }

  const SyntheticConfig& config() const { return config_; }
  /// Number of distinct movies user `user_id` (1-based) rates.
  std::int64_t ratings_of_user(std::int64_t user_id) const { return counts_[check_user(user_id)]; }
  /// The generator's true P(rating >= 4) for a (user, movie) pair, ids 1-based as in the files.
  double like_probability(std::int64_t user_id, std::int64_t item_id) const {
    const auto u = make_user(check_user(user_id));
    const double z = affinity(u, movies_[check_item(item_id)]);
    return 1.0 - synthetic_detail::normal_cdf((config_.thresholds[2] - z) / config_.noise_sd);
  }
  /// The generator's E[rating] for a (user, movie) pair.
  double expected_rating(std::int64_t user_id, std::int64_t item_id) const {
    const auto u = make_user(check_user(user_id));
    return rating_moments(affinity(u, movies_[check_item(item_id)])).first;
  }

  /// Calls on_item for every movie row, then on_rating for every rating row (user by user, in time
  /// order), and returns the summary. Memory stays bounded by config.chunk_rows plus the largest user.
  SyntheticSummary generate(const RatingSink& on_rating, const ItemSink& on_item = {}) const {
    SyntheticSummary s;
    s.users = config_.users;
    s.items = config_.items;
    for (std::int64_t i = 0; i < config_.items; ++i) emit_item(i, on_item, s);
    generate_ratings(on_rating, s);
    return s;
  }

  /// Writes user_data.csv, item_data.csv and synthetic_summary.json into `dir` (created if needed).
  SyntheticSummary write(const std::string& dir) const {
    namespace fs = std::filesystem;
    fs::create_directories(dir);
    CsvWriter items((fs::path(dir) / "item_data.csv").string());
    CsvWriter ratings((fs::path(dir) / "user_data.csv").string());
    items.row("item_id", "title", "genres", "director", "actors", "description");
    ratings.row("user_id", "item_id", "rating", "review", "timestamp");
    const auto text = [](CsvWriter& w, bool missing, const std::string& value) {
      if (missing) w.missing();
      else w.field(value);
    };
    const SyntheticSummary s = generate(
        [&](const SyntheticRating& r) {
          ratings.field(r.user_id).field(r.item_id);
          if (r.rating_missing) ratings.missing();
          else ratings.field(r.rating);
          text(ratings, r.review_missing, r.review);
          if (r.timestamp_missing) ratings.missing();
          else ratings.field(r.timestamp);
          ratings.end_row();
        },
        [&](const SyntheticItem& m) {
          items.field(m.item_id).field(m.title);
          text(items, m.genres_missing, m.genres);
          text(items, m.director_missing, m.director);
          text(items, m.actors_missing, m.actors);
          text(items, m.description_missing, m.description);
          items.end_row();
        });
    items.close();
    ratings.close();
    io::write_file_atomic((fs::path(dir) / "synthetic_summary.json").string(), summary_json(s) + "\n");
    return s;
  }

  /// The summary and the config that produced it, as pretty-printed JSON.
  std::string summary_json(const SyntheticSummary& s) const {
    const auto r6 = [](double x) { return std::round(x * 1e6) / 1e6; };
    json::Value cfg = json::Value::object();
    cfg["users"] = config_.users;
    cfg["items"] = config_.items;
    cfg["ratings"] = config_.ratings;
    cfg["seed"] = config_.seed;
    cfg["duplicate_rate"] = config_.duplicate_rate;
    cfg["missing_rate"] = config_.missing_rate;
    cfg["latent_dim"] = config_.latent_dim;
    cfg["noise_sd"] = config_.noise_sd;
    json::Value v = json::Value::object();
    v["config"] = cfg;
    v["like_label"] = "rating >= 4";
    v["bayes_accuracy"] = r6(s.bayes_accuracy);
    v["oracle_accuracy"] = r6(s.oracle_accuracy);
    v["majority_accuracy"] = r6(std::max(s.like_rate, 1 - s.like_rate));
    v["like_rate"] = r6(s.like_rate);
    v["bayes_rating_rmse"] = r6(s.bayes_rating_rmse);
    json::Value counts = json::Value::array();
    for (std::int64_t c : s.rating_counts) counts.push_back(c);
    v["rating_counts"] = counts;
    v["users"] = s.users;
    v["items"] = s.items;
    v["ratings"] = s.ratings;
    v["rating_rows"] = s.rating_rows;
    v["duplicate_rating_rows"] = s.duplicate_rating_rows;
    v["missing_ratings"] = s.missing_ratings;
    v["missing_reviews"] = s.missing_reviews;
    v["missing_timestamps"] = s.missing_timestamps;
    v["item_rows"] = s.item_rows;
    v["duplicate_item_rows"] = s.duplicate_item_rows;
    v["missing_genres"] = s.missing_genres;
    v["missing_directors"] = s.missing_directors;
    v["missing_actors"] = s.missing_actors;
    v["missing_descriptions"] = s.missing_descriptions;
    return json::dump(v, 2);
  }

 private:
  using Stream = synthetic_detail::Stream;

  Generator stream(Stream s, std::int64_t index) const {
    return synthetic_detail::stream(config_.seed, s, static_cast<std::uint64_t>(index));
  }

  void validate() const {
    const SyntheticConfig& c = config_;
    RECSYS_CHECK(c.users >= 1 && c.users < (std::int64_t{1} << 31), "synthetic: users must be in [1, 2^31), got ",
                 c.users);
    RECSYS_CHECK(c.items >= 2 && c.items < (std::int64_t{1} << 31), "synthetic: items must be in [2, 2^31), got ",
                 c.items);
    RECSYS_CHECK(c.ratings >= 1, "synthetic: ratings must be at least 1, got ", c.ratings);
    RECSYS_CHECK(c.duplicate_rate >= 0 && c.duplicate_rate <= 0.5, "synthetic: duplicate_rate must be in [0, 0.5], got ",
                 c.duplicate_rate);
    RECSYS_CHECK(c.missing_rate >= 0 && c.missing_rate <= 0.5, "synthetic: missing_rate must be in [0, 0.5], got ",
                 c.missing_rate);
    RECSYS_CHECK(c.max_user_fraction > 0 && c.max_user_fraction <= 1,
                 "synthetic: max_user_fraction must be in (0, 1], got ", c.max_user_fraction);
    RECSYS_CHECK(c.min_ratings_per_user >= 0, "synthetic: min_ratings_per_user must be >= 0, got ",
                 c.min_ratings_per_user);
    RECSYS_CHECK(c.latent_dim >= 1 && c.latent_dim <= 256, "synthetic: latent_dim must be in [1, 256], got ",
                 c.latent_dim);
    RECSYS_CHECK(c.noise_sd > 0, "synthetic: noise_sd must be positive, got ", c.noise_sd);
    RECSYS_CHECK(c.factor_sd >= 0 && c.popularity_exponent >= 0 && c.selection_strength >= 0,
                 "synthetic: factor_sd, popularity_exponent and selection_strength must be >= 0");
    for (int j = 1; j < 4; ++j)
      RECSYS_CHECK(c.thresholds[j - 1] < c.thresholds[j], "synthetic: thresholds must increase, got ", c.thresholds[0],
                   ", ", c.thresholds[1], ", ", c.thresholds[2], ", ", c.thresholds[3]);
    RECSYS_CHECK(c.chunk_rows >= 1, "synthetic: chunk_rows must be at least 1, got ", c.chunk_rows);
    const std::int64_t cap = user_cap();
    RECSYS_CHECK(c.ratings <= cap * c.users, "synthetic: ", c.ratings, " ratings do not fit ", c.users, " users rating at most ",
                 cap, " of ", c.items, " movies each (raise users, items or max_user_fraction)");
  }

  std::int64_t user_cap() const {
    return std::max<std::int64_t>(1, static_cast<std::int64_t>(config_.max_user_fraction *
                                                               static_cast<double>(config_.items)));
  }
  std::size_t check_user(std::int64_t id) const {
    RECSYS_CHECK(id >= 1 && id <= config_.users, "synthetic: user_id ", id, " is outside 1..", config_.users);
    return static_cast<std::size_t>(id - 1);
  }
  std::size_t check_item(std::int64_t id) const {
    RECSYS_CHECK(id >= 1 && id <= config_.items, "synthetic: item_id ", id, " is outside 1..", config_.items);
    return static_cast<std::size_t>(id - 1);
  }

  // ---- the catalogue ----

  void build_people() {
    using namespace synthetic_detail;
    genre_cdf_.clear();
    double acc = 0;
    for (const Genre& g : genres()) genre_cdf_.push_back(acc += g.share);
    n_directors_ = std::max<std::int64_t>(8, config_.items / 6);
    n_actors_ = std::max<std::int64_t>(24, config_.items / 2);
    Generator g = stream(Stream::people, 0);
    director_home_.resize(static_cast<std::size_t>(n_directors_));
    director_quality_.resize(static_cast<std::size_t>(n_directors_));
    director_cdf_.resize(static_cast<std::size_t>(n_directors_));
    acc = 0;
    for (std::int64_t d = 0; d < n_directors_; ++d) {
      director_home_[static_cast<std::size_t>(d)] = static_cast<int>(draw_cdf(genre_cdf_, g));
      director_quality_[static_cast<std::size_t>(d)] = 0.3 * g.normal();
      director_cdf_[static_cast<std::size_t>(d)] = acc += std::pow(static_cast<double>(d + 1), -0.6);
    }
    actor_power_.resize(static_cast<std::size_t>(n_actors_));
    actor_cdf_.resize(static_cast<std::size_t>(n_actors_));
    actors_by_genre_.assign(kGenres, {});
    acc = 0;
    for (std::int64_t a = 0; a < n_actors_; ++a) {
      actors_by_genre_[draw_cdf(genre_cdf_, g)].push_back(static_cast<std::int32_t>(a));
      actor_power_[static_cast<std::size_t>(a)] = 0.2 * g.normal();
      actor_cdf_[static_cast<std::size_t>(a)] = acc += std::pow(static_cast<double>(a + 1), -0.8);
    }
  }

  void build_movies() {
    using namespace synthetic_detail;
    const auto n = static_cast<std::size_t>(config_.items);
    movies_.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      Generator g = stream(Stream::item, static_cast<std::int64_t>(i));
      Movie& m = movies_[i];
      m.director = static_cast<std::int32_t>(draw_cdf(director_cdf_, g));
      const int primary = g.uniform() < 0.6 ? director_home_[static_cast<std::size_t>(m.director)]
                                            : static_cast<int>(draw_cdf(genre_cdf_, g));
      m.genres[0] = static_cast<std::int8_t>(primary);
      m.n_genres = 1;
      if (g.uniform() < 0.55) {
        add_genre(m, g);
        if (g.uniform() < 0.2) add_genre(m, g);
      }
      m.n_actors = 2 + static_cast<int>(g.below(3));
      const auto& local = actors_by_genre_[static_cast<std::size_t>(primary)];
      for (int k = 0; k < m.n_actors; ++k) {
        std::int32_t a = 0;
        for (int attempt = 0; attempt < 20; ++attempt) {  // a repeat is redrawn; 20 misses in a row is ~impossible
          a = !local.empty() && g.uniform() < 0.5 ? local[g.below(local.size())]
                                                  : static_cast<std::int32_t>(draw_cdf(actor_cdf_, g));
          if (std::find(m.actors.begin(), m.actors.begin() + k, a) == m.actors.begin() + k) break;
        }
        m.actors[static_cast<std::size_t>(k)] = a;
      }
      const double u = g.uniform();
      m.year = 2014 - static_cast<int>(55.0 * u * u);  // more recent films are commoner
      double star = 0;
      for (int k = 0; k < m.n_actors; ++k) star += actor_power_[static_cast<std::size_t>(m.actors[k])];
      m.bias = director_quality_[static_cast<std::size_t>(m.director)] + star / m.n_actors + 0.35 * g.normal();
      m.factors.resize(static_cast<std::size_t>(config_.latent_dim));
      for (double& f : m.factors) f = config_.factor_sd * g.normal();
    }
    // Popularity: Zipf over a random ranking, tilted towards better movies.
    std::vector<std::int64_t> rank(n);
    for (std::size_t i = 0; i < n; ++i) rank[i] = static_cast<std::int64_t>(i);
    Generator g = stream(Stream::ranks, 0);
    recsys::shuffle(rank.begin(), rank.end(), g);
    std::vector<double> weight(n);
    for (std::size_t i = 0; i < n; ++i)
      weight[i] = std::pow(static_cast<double>(rank[i] + 1), -config_.popularity_exponent) * std::exp(0.6 * movies_[i].bias);
    popularity_ = synthetic_detail::AliasTable(weight);
  }

  void add_genre(synthetic_detail::Movie& m, Generator& g) const {
    for (int attempt = 0; attempt < 20; ++attempt) {
      const auto c = static_cast<std::int8_t>(synthetic_detail::draw_cdf(genre_cdf_, g));
      if (std::find(m.genres.begin(), m.genres.begin() + m.n_genres, c) != m.genres.begin() + m.n_genres) continue;
      m.genres[static_cast<std::size_t>(m.n_genres++)] = c;
      return;
    }
  }

  std::string title_of(std::int64_t i) const {
    using namespace synthetic_detail;
    const Movie& m = movies_[static_cast<std::size_t>(i)];
    Generator g = stream(Stream::item_text, i);
    const Genre& gen = genres()[static_cast<std::size_t>(m.genres[0])];
    const Genre& other = genres()[g.below(kGenres)];  // a word from elsewhere keeps titles varied
    const char* noun = pick(gen.nouns, g);
    const char* noun2 = pick(g.uniform() < 0.7 ? gen.nouns : other.nouns, g);
    const char* adj = pick(g.uniform() < 0.7 ? gen.adjectives : other.adjectives, g);
    const std::string name = kFirstNames[g.below(kFirstNames.size())];
    switch (g.below(7)) {
      case 0: return std::string("The ") + adj + " " + noun;
      case 1: return std::string(noun) + " of the " + noun2;
      case 2: return std::string(adj) + " " + noun;
      case 3: return std::string("The ") + noun;
      case 4: return std::string(noun) + " " + std::to_string(2 + g.below(3));
      case 5: return std::string("Return of the ") + noun;
      default: return name + "'s " + noun;
    }
  }

  /// "promise and silence": two different nouns of a genre.
  static std::string two_nouns(const synthetic_detail::Genre& gen, Generator& g) {
    const std::size_t a = g.below(gen.nouns.size()), b = (a + 1 + g.below(gen.nouns.size() - 1)) % gen.nouns.size();
    return synthetic_detail::ascii_lower(gen.nouns[a]) + " and " + synthetic_detail::ascii_lower(gen.nouns[b]);
  }

  std::string director_name(std::int32_t d) const { return synthetic_detail::person_name(d); }
  std::string actor_name(std::int32_t a) const { return synthetic_detail::person_name(n_directors_ + a); }

  void emit_item(std::int64_t i, const ItemSink& sink, SyntheticSummary& s) const {
    using namespace synthetic_detail;
    const Movie& m = movies_[static_cast<std::size_t>(i)];
    SyntheticItem row;
    row.item_id = i + 1;
    row.title = title_of(i) + " (" + std::to_string(m.year) + ")";
    for (int k = 0; k < m.n_genres; ++k) {
      if (k) row.genres += '|';
      row.genres += genres()[static_cast<std::size_t>(m.genres[k])].name;
    }
    row.director = director_name(m.director);
    std::vector<std::string> cast;
    for (int k = 0; k < m.n_actors; ++k) {
      cast.push_back(actor_name(m.actors[static_cast<std::size_t>(k)]));
      if (k) row.actors += '|';
      row.actors += cast.back();
    }
    // The description draws from its own offset of the movie's text stream (the title used the start).
    Generator g = stream(Stream::item_text, i);
    g.set_state(g.seed(), g.offset() + 1024);
    const Genre& gen = genres()[static_cast<std::size_t>(m.genres[0])];
    std::string genre_words = ascii_lower(gen.name);
    if (m.n_genres > 1) genre_words += " and " + ascii_lower(genres()[static_cast<std::size_t>(m.genres[1])].name);
    row.description = ascii_capitalize(pick(kProtagonists, g)) + " " + pick(gen.plots, g) + " " + pick(kSettings, g) +
                      ". A " + pick(kTones, g) + " " + genre_words + " story about " +
                      two_nouns(gen, g) +
                      " from director " + row.director + ", starring " + cast[0];
    for (std::size_t k = 1; k < cast.size(); ++k) row.description += (k + 1 == cast.size() ? " and " : ", ") + cast[k];
    row.description += ".";
    const double rate = config_.missing_rate;
    row.genres_missing = g.uniform() < rate;
    row.director_missing = g.uniform() < rate;
    row.actors_missing = g.uniform() < rate;
    row.description_missing = g.uniform() < rate;
    const bool twice = g.uniform() < config_.duplicate_rate;
    s.missing_genres += row.genres_missing * (1 + twice);
    s.missing_directors += row.director_missing * (1 + twice);
    s.missing_actors += row.actors_missing * (1 + twice);
    s.missing_descriptions += row.description_missing * (1 + twice);
    s.item_rows += 1 + twice;
    s.duplicate_item_rows += twice;
    if (!sink) return;
    sink(row);
    if (twice) {
      row.duplicate = true;
      sink(row);
    }
  }

  // ---- users and their ratings ----

  /// Ratings per user: proportional to activity, within [min, cap], summing exactly to config.ratings.
  void allocate_ratings() {
    const auto n = static_cast<std::size_t>(config_.users);
    const std::int64_t cap = user_cap();
    const std::int64_t floor_each = std::min({config_.min_ratings_per_user, config_.ratings / config_.users, cap});
    std::vector<double> activity(n);
    for (std::size_t u = 0; u < n; ++u) activity[u] = std::exp(stream(Stream::activity, static_cast<std::int64_t>(u)).normal());
    // Water-filling: find lambda with sum min(cap - floor, lambda * a_u) = extra, by bisection.
    const double extra = static_cast<double>(config_.ratings - floor_each * config_.users);
    const double room = static_cast<double>(cap - floor_each);
    const auto filled = [&](double lambda) {
      double s = 0;
      for (double a : activity) s += std::min(room, lambda * a);
      return s;
    };
    double lo = 0, hi = 1;
    while (filled(hi) < extra && hi < 1e300) hi *= 2;
    for (int it = 0; it < 200; ++it) {
      const double mid = 0.5 * (lo + hi);
      (filled(mid) < extra ? lo : hi) = mid;
    }
    // Cumulative rounding keeps the total exact; the clamp and the top-up fix what rounding leaves.
    counts_.assign(n, 0);
    double cumulative = 0;
    std::int64_t given = 0;
    const double scale = extra / std::max(filled(hi), 1e-300);
    for (std::size_t u = 0; u < n; ++u) {
      cumulative += std::min(room, hi * activity[u]) * scale;
      const auto target = static_cast<std::int64_t>(std::floor(cumulative + 1e-9));
      counts_[u] = std::min(cap, floor_each + (target - given));
      given += counts_[u] - floor_each;
    }
    std::int64_t left = config_.ratings - floor_each * config_.users - given;
    for (std::size_t u = 0; left != 0; u = (u + 1) % n) {
      if (left > 0 && counts_[u] < cap) ++counts_[u], --left;
      else if (left < 0 && counts_[u] > floor_each) --counts_[u], ++left;
    }
  }

  synthetic_detail::User make_user(std::size_t u, Generator* out_stream = nullptr) const {
    using namespace synthetic_detail;
    Generator g = stream(Stream::user, static_cast<std::int64_t>(u));
    User user;
    for (double& t : user.taste) t = 0.35 * g.normal();
    for (int k = 0; k < 2; ++k) user.taste[draw_cdf(genre_cdf_, g)] += 0.9;
    user.taste[draw_cdf(genre_cdf_, g)] -= 0.9;
    user.harshness = 0.35 * g.normal();
    user.tone = 0.4 * g.normal();
    user.factors.resize(static_cast<std::size_t>(config_.latent_dim));
    for (double& f : user.factors) f = config_.factor_sd * g.normal();
    user.join = kTimeBegin + static_cast<std::int64_t>(g.uniform() * 0.85 * static_cast<double>(kTimeEnd - kTimeBegin));
    if (out_stream) *out_stream = g;
    return user;
  }

  double taste(const synthetic_detail::User& u, const synthetic_detail::Movie& m) const {
    double t = 0;
    for (int k = 0; k < m.n_genres; ++k) t += u.taste[static_cast<std::size_t>(m.genres[k])];
    return config_.genre_weight * t / m.n_genres;
  }

  double affinity(const synthetic_detail::User& u, const synthetic_detail::Movie& m) const {
    double dot = 0;
    for (std::size_t k = 0; k < u.factors.size(); ++k) dot += u.factors[k] * m.factors[k];
    return m.bias - u.harshness + taste(u, m) + dot;
  }

  /// E[r] and Var(r) under the ordered probit at affinity z.
  std::pair<double, double> rating_moments(double z) const {
    double mean = 0, second = 0, below = 0;
    for (int r = 1; r <= 5; ++r) {
      const double upto = r == 5 ? 1.0 : synthetic_detail::normal_cdf((config_.thresholds[r - 1] - z) / config_.noise_sd);
      mean += r * (upto - below);
      second += r * r * (upto - below);
      below = upto;
    }
    return {mean, second - mean * mean};
  }

  /// Per-user block of rows plus the sums the summary needs, made on any thread.
  struct Block {
    std::vector<SyntheticRating> rows;
    double bayes = 0, oracle = 0, variance = 0;
    std::int64_t likes = 0;
    std::array<std::int64_t, 5> rating_counts{};
  };

  void generate_user(std::size_t u, std::vector<char>& seen, Block& block) const {
    using namespace synthetic_detail;
    Generator g(0);
    const User user = make_user(u, &g);
    const std::int64_t n = counts_[u];
    double best = -1e300;
    for (double t : user.taste) best = std::max(best, config_.genre_weight * t);
    // Movies without replacement ~ popularity x exp(eta * taste), by rejection from the popularity table.
    std::vector<std::int64_t> chosen;
    chosen.reserve(static_cast<std::size_t>(n));
    std::int64_t attempts = 0;
    while (static_cast<std::int64_t>(chosen.size()) < n && ++attempts < 200 * (n + 10)) {
      const std::size_t i = popularity_.sample(g);
      if (seen[i]) continue;
      if (g.uniform() >= std::exp(config_.selection_strength * (taste(user, movies_[i]) - best))) continue;
      seen[i] = 1;
      chosen.push_back(static_cast<std::int64_t>(i));
    }
    // Safety net for a user whose taste rejects nearly everything left: take the next unseen movies.
    for (std::size_t i = g.below(movies_.size()); static_cast<std::int64_t>(chosen.size()) < n; i = (i + 1) % movies_.size())
      if (!seen[i]) seen[i] = 1, chosen.push_back(static_cast<std::int64_t>(i));
    for (std::int64_t i : chosen) seen[static_cast<std::size_t>(i)] = 0;

    std::vector<std::pair<std::int64_t, std::int64_t>> timed;  // (timestamp, movie)
    for (std::int64_t i : chosen)
      timed.emplace_back(user.join + static_cast<std::int64_t>(g.uniform() * static_cast<double>(kTimeEnd - user.join)), i);
    std::sort(timed.begin(), timed.end());

    std::vector<std::pair<double, SyntheticRating>> keyed;  // (position, row): duplicates land later
    Block sums;  // local: blocks of neighbouring users sit side by side, and other threads write those
    for (std::size_t j = 0; j < timed.size(); ++j) {
      const Movie& m = movies_[static_cast<std::size_t>(timed[j].second)];
      const double z = affinity(user, m);
      const double noisy = z + config_.noise_sd * g.normal();
      int r = 1;
      for (double c : config_.thresholds) r += noisy > c;
      SyntheticRating row;
      row.user_id = static_cast<std::int64_t>(u) + 1;
      row.item_id = timed[j].second + 1;
      row.rating = r;
      row.timestamp = timed[j].first;
      row.like_probability = 1.0 - normal_cdf((config_.thresholds[2] - z) / config_.noise_sd);
      const auto [mean, var] = rating_moments(z);
      row.expected_rating = mean;
      row.review = review(user, timed[j].second, r, g);
      row.rating_missing = g.uniform() < config_.missing_rate;
      row.review_missing = g.uniform() < config_.missing_rate;
      row.timestamp_missing = g.uniform() < config_.missing_rate;
      const double p = row.like_probability;
      sums.bayes += std::max(p, 1 - p);
      sums.oracle += (p > 0.5) == (r >= 4);
      sums.variance += var;
      sums.likes += r >= 4;
      ++sums.rating_counts[static_cast<std::size_t>(r - 1)];
      const bool twice = g.uniform() < config_.duplicate_rate;
      const double where = static_cast<double>(j) + g.uniform() * static_cast<double>(timed.size() - j);
      keyed.emplace_back(static_cast<double>(j), row);
      if (twice) {
        row.duplicate = true;
        keyed.emplace_back(std::max(where, static_cast<double>(j) + 0.5), std::move(row));
      }
    }
    std::stable_sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    for (auto& k : keyed) sums.rows.push_back(std::move(k.second));
    block = std::move(sums);
  }

  void generate_ratings(const RatingSink& sink, SyntheticSummary& s) const {
    const auto n_users = static_cast<std::size_t>(config_.users);
    double bayes = 0, oracle = 0, variance = 0;
    std::int64_t likes = 0;
    for (std::size_t begin = 0; begin < n_users;) {
      // A chunk is a run of users with about chunk_rows ratings: the unit of parallel work and of memory.
      std::size_t end = begin;
      std::int64_t rows = 0;
      while (end < n_users && (end == begin || rows + counts_[end] <= config_.chunk_rows)) rows += counts_[end++];
      std::vector<Block> blocks(end - begin);
#pragma omp parallel
      {
        std::vector<char> seen(movies_.size(), 0);
#pragma omp for schedule(dynamic, 1)
        for (std::int64_t k = 0; k < static_cast<std::int64_t>(end - begin); ++k)
          generate_user(begin + static_cast<std::size_t>(k), seen, blocks[static_cast<std::size_t>(k)]);
      }
      std::int64_t buffered = 0;
      for (const Block& b : blocks) buffered += static_cast<std::int64_t>(b.rows.size());
      s.peak_buffered_rows = std::max(s.peak_buffered_rows, buffered);
      for (Block& b : blocks) {  // in user order, so the sums and the output never depend on threads
        bayes += b.bayes;
        oracle += b.oracle;
        variance += b.variance;
        likes += b.likes;
        for (int r = 0; r < 5; ++r) s.rating_counts[static_cast<std::size_t>(r)] += b.rating_counts[static_cast<std::size_t>(r)];
        for (const SyntheticRating& row : b.rows) {
          ++s.rating_rows;
          s.duplicate_rating_rows += row.duplicate;
          s.missing_ratings += row.rating_missing;
          s.missing_reviews += row.review_missing;
          s.missing_timestamps += row.timestamp_missing;
          if (sink) sink(row);
        }
      }
      begin = end;
    }
    s.ratings = config_.ratings;
    const double n = static_cast<double>(s.ratings);
    s.bayes_accuracy = bayes / n;
    s.oracle_accuracy = oracle / n;
    s.like_rate = static_cast<double>(likes) / n;
    s.bayes_rating_rmse = std::sqrt(variance / n);
  }

  // ---- review text ----

  /// Text of one review of movie i rated r (see the story at the top of the file).
  std::string review(const synthetic_detail::User& user, std::int64_t i, int r, Generator& g) const {
    using namespace synthetic_detail;
    const Movie& m = movies_[static_cast<std::size_t>(i)];
    const std::string genre = ascii_lower(genres()[static_cast<std::size_t>(m.genres[0])].name);
    const double p_clause = sigmoid(logit(kClausePositive[static_cast<std::size_t>(r - 1)]) + user.tone);
    // An adjective phrase of the given polarity: "very dull", "not bad" (negated opposite), "clever".
    const auto adjective = [&](bool positive, bool may_negate = true) {
      std::string out;
      if (may_negate && g.uniform() < 0.15) return std::string("not ") + pick(positive ? kNegative : kPositive, g);
      if (g.uniform() < 0.3) out = std::string(pick(kIntensifiers, g)) + " ";
      return out + pick(positive ? kPositive : kNegative, g);
    };
    std::vector<std::string> sentences;
    if (g.uniform() < 0.3) sentences.push_back(pick(kFillers, g));
    const int clauses = 1 + static_cast<int>(g.below(4));
    std::string sentence;
    bool last_sign = false;
    for (int c = 0; c < clauses; ++c) {
      const bool positive = g.uniform() < p_clause;
      const std::string aspect = pick(kAspects, g);
      std::string clause;
      const char* was = aspect.back() == 's' ? " were " : " was ";  // "the effects were", "the plot was"
      switch (g.below(4)) {
        case 0: clause = "the " + aspect + was + adjective(positive); break;
        case 1: clause = adjective(positive, false) + " " + aspect; break;
        case 2: clause = "I found the " + aspect + " " + adjective(positive); break;
        default: clause = "the " + aspect + " felt " + adjective(positive); break;
      }
      if (!sentence.empty() && positive != last_sign && g.uniform() < 0.6) {
        sentence += " but " + clause;
      } else if (!sentence.empty() && positive == last_sign && g.uniform() < 0.3) {
        sentence += " and " + clause;
      } else {
        if (!sentence.empty()) sentences.push_back(sentence);
        sentence = clause;
      }
      last_sign = positive;
    }
    sentences.push_back(sentence);
    if (g.uniform() < 0.45) {  // a mention of the movie itself
      const bool positive = g.uniform() < p_clause;
      switch (g.below(5)) {
        case 0:
          sentences.push_back(actor_name(m.actors[g.below(static_cast<std::uint64_t>(m.n_actors))]) + " was " +
                              adjective(positive));
          break;
        case 1: sentences.push_back("a typical " + last_name(director_name(m.director)) + " film"); break;
        case 2: sentences.push_back("as a fan of " + genre + " films"); break;
        case 3:
          sentences.push_back("the " + ascii_lower(pick(genres()[static_cast<std::size_t>(m.genres[0])].nouns, g)) +
                              " scenes were " + adjective(positive));
          break;
        default: sentences.push_back("\"" + title_of(i) + "\" is " + adjective(positive)); break;
      }
    }
    if (g.uniform() < 0.6) {  // a verdict: surer than the clauses, often neutral for a 3
      const double u = g.uniform();
      const bool neutral = (r == 3 && u < 0.5) || ((r == 2 || r == 4) && u < 0.2);
      const bool positive = g.uniform() < kVerdictPositiveProb[static_cast<std::size_t>(r - 1)];
      sentences.push_back(fill_genre(neutral ? pick(kVerdictNeutral, g) : positive ? pick(kVerdictPositive, g)
                                                                            : pick(kVerdictNegative, g),
                               genre));
    }
    std::string text;
    for (const std::string& s : sentences) {
      if (!text.empty()) text += ' ';
      text += ascii_capitalize(s) + (g.uniform() < 0.1 ? "!" : ".");
    }
    return text;
  }

  SyntheticConfig config_;
  std::vector<double> genre_cdf_, director_cdf_, actor_cdf_;
  std::vector<int> director_home_;
  std::vector<double> director_quality_, actor_power_;
  std::vector<std::vector<std::int32_t>> actors_by_genre_;
  std::int64_t n_directors_ = 0, n_actors_ = 0;
  std::vector<synthetic_detail::Movie> movies_;
  synthetic_detail::AliasTable popularity_;
  std::vector<std::int64_t> counts_;
};

/// Generates the synthetic movie site into `dir` (user_data.csv, item_data.csv, synthetic_summary.json).
inline SyntheticSummary write_synthetic(const std::string& dir, const SyntheticConfig& config = {}) {
  return SyntheticGenerator(config).write(dir);
}

}  // namespace recsys::data
