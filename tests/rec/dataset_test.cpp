// tests/rec/dataset_test.cpp — rec::Dataset: indices, subsets, loaders (synthetic, MovieLens, UCI, saved folders), cleaning report and errors.
#include "rec/rec_test_util.hpp"

#include <recsys/rec/recommender.hpp>

using namespace recsys;
using recsys::testing::TempDir;

TEST_CASE("rec dataset: ids, indices, subsets and per-user order") {
  const rec::Dataset d = recsys::testing::tiny_dataset();
  CHECK(d.num_users() == 3);
  CHECK(d.num_items() == 5);
  CHECK(d.size() == 8);
  CHECK(d.user_index("bob") == 1);
  CHECK(d.item_index("m4") == 4);
  CHECK(d.item(0).text() == "Alpha Quest (1990) . Adventure");
  CHECK(d.liked(d[0]));
  CHECK_FALSE(d.liked(d[2]));
  const auto by_user = d.rows_by_user();
  CHECK(by_user[2] == std::vector<std::int64_t>{6, 5, 7});  // t4, t5, t6
  const std::vector<std::int64_t> rows{7, 1};
  const rec::Dataset s = d.subset(rows);
  CHECK(s.size() == 2);
  CHECK(s.num_items() == 5);
  CHECK(s[0].item == 4);
  CHECK(s[1].review == "lovely");
  CHECK(d.item_counts() == std::vector<std::int64_t>{3, 2, 1, 1, 1});
  CHECK(d.mean_rating() == doctest::Approx(29.0 / 8));
}

TEST_CASE("rec dataset: errors name the id or index") {
  const rec::Dataset d = recsys::testing::tiny_dataset();
  CHECK_THROWS_WITH_AS(d.user_index("zed"), doctest::Contains("unknown user id 'zed'"), recsys::Error);
  CHECK_THROWS_WITH_AS(d.item_index("m9"), doctest::Contains("unknown item id 'm9'"), recsys::Error);
  CHECK_THROWS_WITH_AS(d.item(5), doctest::Contains("item index 5 is outside [0, 5)"), recsys::Error);
  const std::vector<std::int64_t> bad{8};
  CHECK_THROWS_WITH_AS(d.subset(bad), doctest::Contains("row 8 is outside [0, 8)"), recsys::Error);
  CHECK_THROWS_WITH_AS(rec::Dataset({"a", "a"}, {}, {}), doctest::Contains("user id 'a' is listed twice"),
                       recsys::Error);
  CHECK_THROWS_WITH_AS(rec::Dataset({"a"}, {}, {{0, 0, 1, 0, ""}}), doctest::Contains("item index 0, outside [0, 0)"),
                       recsys::Error);
  CHECK_THROWS_WITH_AS(d.sample_users(0), doctest::Contains("fraction must be in (0, 1]"), recsys::Error);
}

TEST_CASE("rec dataset: cleaning merges duplicates, drops unrated rows and fills gaps") {
  TempDir dir("clean");
  recsys::testing::write_text(dir.file("items.csv"),
                              "item_id,title,genres,director,actors,description\n"
                              "1,One (2001),Drama|Comedy,Ana Silva,Ben Berg|Kim Sato,a film\n"
                              "2,Two (2002),,,,\n"
                              "2,Two (2002),Horror,Zoe Webb,,\n");
  recsys::testing::write_text(dir.file("ratings.csv"),
                              "user_id,item_id,rating,review,timestamp\n"
                              "u1,1,5,great,100\n"
                              "u1,2,,,\n"      // rating, review and timestamp missing
                              "u1,2,2,bad,\n"  // its copy supplies the rating and review
                              "u2,2,,meh,50\n" // never rated: dropped
                              "u2,3,4,,60\n"   // item 3 is not in the catalogue
                              "u1,1,5,great,100\n");
  const rec::Dataset d = rec::load_interactions(dir.file("ratings.csv"), dir.file("items.csv"));
  const rec::CleaningReport& c = d.cleaning();
  CHECK(c.rows_read == 6);
  CHECK(c.duplicate_rows == 2);
  CHECK(c.missing_ratings == 2);
  CHECK(c.missing_reviews == 2);
  CHECK(c.missing_timestamps == 2);
  CHECK(c.dropped_unrated == 1);
  CHECK(c.filled_reviews == 1);
  CHECK(c.filled_timestamps == 1);
  CHECK(c.item_rows_read == 3);
  CHECK(c.duplicate_items == 1);
  CHECK(c.missing_genres == 1);
  CHECK(c.missing_directors == 1);
  CHECK(c.missing_actors == 2);
  CHECK(c.missing_descriptions == 2);
  CHECK(c.unknown_items == 1);
  REQUIRE(d.size() == 3);
  CHECK(d.num_users() == 2);
  CHECK(d.num_items() == 3);
  CHECK(d[1].rating == 2);
  CHECK(d[1].review == "bad");
  CHECK(d[1].timestamp == 100);  // the user's previous timestamp
  CHECK(d[2].review.empty());
  CHECK(d.item(0).genres == std::vector<std::string>{"Drama", "Comedy"});
  CHECK(d.item(0).actors == std::vector<std::string>{"Ben Berg", "Kim Sato"});
  CHECK(d.item(0).year == 2001);
  CHECK(d.item(1).genres == std::vector<std::string>{"Horror"});  // from the repeated row
  CHECK(d.item(1).director == "Zoe Webb");
  CHECK(d.item(2).id == "3");
  CHECK(c.to_string().find("merged 2 duplicate interaction rows") != std::string::npos);
  CHECK(c.to_json().at("dropped_unrated").as_int64() == 1);
}

TEST_CASE("rec dataset: bad files give one clear error") {
  TempDir dir("badfiles");
  CHECK_THROWS_WITH_AS(rec::load_interactions(dir.file("none.csv"), dir.file("none.csv")), doctest::Contains("no file"),
                       recsys::Error);
  recsys::testing::write_text(dir.file("items.csv"), "item_id,title\n1,One\n");
  recsys::testing::write_text(dir.file("ratings.csv"), "user,item_id,rating\nu1,1,5\n");
  CHECK_THROWS_WITH_AS(rec::load_interactions(dir.file("ratings.csv"), dir.file("items.csv")),
                       doctest::Contains("has no column 'user_id'"), recsys::Error);
  recsys::testing::write_text(dir.file("ratings.csv"), "user_id,item_id,rating\nu1,1,five\n");
  CHECK_THROWS_AS(rec::load_interactions(dir.file("ratings.csv"), dir.file("items.csv")), recsys::Error);
  CHECK_THROWS_WITH_AS(rec::load_movielens(dir.file("nope")), doctest::Contains("no folder"), recsys::Error);
  CHECK_THROWS_WITH_AS(rec::load_uci_sentences(dir.str()), doctest::Contains("holds none of"), recsys::Error);
  recsys::testing::write_text(dir.file("x_labelled.txt"), "good\t1\nbad\t2\n");
  CHECK_THROWS_WITH_AS(rec::load_uci_sentences(std::vector<std::string>{dir.file("x_labelled.txt")}),
                       doctest::Contains("line 2 has label 2"), recsys::Error);
  CHECK_THROWS_WITH_AS(rec::load_dataset(dir.str()), doctest::Contains("dataset.json"), recsys::Error);
}

TEST_CASE("rec dataset: save and load_dataset keep ids, indices and values") {
  const rec::Dataset d = recsys::testing::tiny_dataset();
  TempDir dir("save");
  d.save(dir.str(), true);
  const rec::Dataset back = rec::load_dataset(dir.str());
  REQUIRE(back.size() == d.size());
  CHECK(back.user_ids() == d.user_ids());
  for (std::int64_t i = 0; i < d.num_items(); ++i) {
    CHECK(back.item(i).id == d.item(i).id);
    CHECK(back.item(i).title == d.item(i).title);
    CHECK(back.item(i).genres == d.item(i).genres);
    CHECK(back.item(i).year == d.item(i).year);
  }
  for (std::int64_t r = 0; r < d.size(); ++r) {
    CHECK(back[r].user == d[r].user);
    CHECK(back[r].item == d[r].item);
    CHECK(back[r].rating == d[r].rating);
    CHECK(back[r].timestamp == d[r].timestamp);
    CHECK(back[r].review == d[r].review);
  }
  CHECK(back.like_threshold() == 4.0);
}

TEST_CASE("rec dataset: the synthetic site's cleaning report matches the generator's summary") {
  TempDir dir("synthetic");
  const data::SyntheticSummary s =
      data::write_synthetic(dir.str(), {.users = 60, .items = 80, .ratings = 1500, .seed = 3, .duplicate_rate = 0.05,
                                        .missing_rate = 0.05});
  const rec::Dataset d = rec::load_synthetic(dir.str());
  const rec::CleaningReport& c = d.cleaning();
  CHECK(c.rows_read == s.rating_rows);
  CHECK(c.duplicate_rows == s.duplicate_rating_rows);
  CHECK(c.missing_ratings == s.missing_ratings);
  CHECK(c.missing_reviews == s.missing_reviews);
  CHECK(c.missing_timestamps == s.missing_timestamps);
  CHECK(c.item_rows_read == s.item_rows);
  CHECK(c.duplicate_items == s.duplicate_item_rows);
  CHECK(c.missing_genres == s.missing_genres);
  CHECK(c.missing_directors == s.missing_directors);
  CHECK(c.missing_actors == s.missing_actors);
  CHECK(c.missing_descriptions == s.missing_descriptions);
  CHECK(d.size() == s.ratings - c.dropped_unrated);
  CHECK(d.num_items() == 80);
  CHECK(c.unknown_items == 0);
  CHECK(d.has_reviews());
}

TEST_CASE("rec dataset: MovieLens ml-latest-small") {
  const std::string dir = recsys::testing::shared_data("movielens-ml-latest-small");
  if (dir.empty()) return;
  const rec::Dataset d = rec::load_movielens(dir);
  CHECK(d.size() == 100836);
  CHECK(d.num_users() == 610);
  CHECK(d.num_items() == 9742);
  CHECK(d.cleaning().duplicate_rows == 0);
  CHECK(d.cleaning().unknown_items == 0);
  const rec::Item& toy = d.item(d.item_index("1"));
  CHECK(toy.title == "Toy Story (1995)");
  CHECK(toy.year == 1995);
  CHECK(toy.genres == std::vector<std::string>{"Adventure", "Animation", "Children", "Comedy", "Fantasy"});
  CHECK(d.item(d.item_index("60756")).tags.find("will ferrell") != std::string::npos);
  CHECK(d.item(d.item_index("11")).title == "American President, The (1995)");  // a quoted comma
  const rec::Interaction& first = d[0];
  CHECK(d.user_id(first.user) == "1");
  CHECK(first.rating == 4.0);
  CHECK(first.timestamp == 964982703);
  const rec::Dataset sample = d.sample_users(0.05, 1);
  CHECK(sample.num_users() == 610);  // the catalogue stays whole
  std::vector<std::uint8_t> users(610, 0);
  for (const rec::Interaction& r : sample.interactions()) users[static_cast<std::size_t>(r.user)] = 1;
  CHECK(std::count(users.begin(), users.end(), 1) == 30);
}

TEST_CASE("rec dataset: UCI sentences, quoting off") {
  const std::string dir = recsys::testing::shared_data("uci-sentiment-labelled-sentences");
  if (dir.empty()) return;
  const rec::Dataset d = rec::load_uci_sentences(dir);
  CHECK(d.size() == 3000);
  CHECK(d.user_ids() == std::vector<std::string>{"amazon_cells", "imdb", "yelp"});
  std::int64_t liked = 0;
  for (const rec::Interaction& r : d.interactions()) liked += d.liked(r);
  CHECK(liked == 1500);
  CHECK(d[2000].review == "Wow... Loved this place.");
  CHECK(d.item(2000).id == "yelp:1");
}
