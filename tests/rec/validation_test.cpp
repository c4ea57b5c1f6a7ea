// tests/rec/validation_test.cpp — data checked before training: finite ratings on a scale (rejected rows named by file, line and column, or skipped and counted), numerical guards on training, saving and loading, rating predictions clipped, linear-time loading of an empty timestamp column.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <string>

#include "rec_test_util.hpp"

using namespace recsys;
using recsys::testing::TempDir;
using recsys::testing::write_text;

namespace {

const char* const kValidationItems = "item_id,title,genres,director,actors,description\n1,A (2000),Drama,X,Y,Z\n"
                                     "2,B (2001),Comedy,X,Y,Z\n";
// Line 3 holds a quoted review over two lines, so data row k is not on line k + 1 after it.
const char* const kValidationRatings =
    "user_id,item_id,rating,review,timestamp\n"
    "1,1,4,\"fine\",100\n"
    "1,2,3,\"a review\nover two lines\",200\n"
    "2,1,inf,\"\",300\n"
    "2,2,5,\"\",400\n"
    "3,1,-inf,\"\",500\n"
    "3,2,nan,\"\",600\n"
    "4,1,7,\"\",700\n"
    "4,2,1,\"\",800\n";

struct ValidationFiles {
  TempDir dir{"validation"};
  std::string ratings = dir.file("user_data.csv"), items = dir.file("item_data.csv");
  explicit ValidationFiles(const std::string& text = kValidationRatings) {
    write_text(ratings, text);
    write_text(items, kValidationItems);
  }
};

}  // namespace

TEST_CASE("a non-finite rating is an error naming the file, line and column") {
  const ValidationFiles f;
  const std::string first = "load_interactions: '" + f.ratings +
                            "' line 5, column 3 ('rating'): inf is not a finite rating (3 bad rows in all); fix the "
                            "data, give the rating scale, or skip bad rows";
  CHECK_THROWS_WITH_AS(rec::load_interactions(f.ratings, f.items), first.c_str(), rec::BadRowError);
  // With a scale, a finite rating off it is rejected too, and so is a NaN (never an "empty cell").
  CHECK_THROWS_WITH_AS(rec::load_interactions(f.ratings, f.items, {}, {}, 4.0, {.low = 1, .high = 5}),
                       doctest::Contains("line 5, column 3 ('rating'): inf is not a finite rating (4 bad rows in all)"),
                       rec::BadRowError);
  const ValidationFiles only_off_scale("user_id,item_id,rating\n1,1,4\n1,2,5.5\n");
  CHECK_THROWS_WITH_AS(rec::load_interactions(only_off_scale.ratings, only_off_scale.items, {}, {}, 4.0,
                                              {.low = 1, .high = 5}),
                       doctest::Contains("line 3, column 3 ('rating'): 5.5 is outside the rating scale 1:5"),
                       rec::BadRowError);
  const ValidationFiles text("user_id,item_id,rating\n1,1,4\n1,2,five\n");
  CHECK_THROWS_WITH_AS(rec::load_interactions(text.ratings, text.items),
                       doctest::Contains("line 3, column 3 ('rating'): expected a number, got \"five\""), Error);
  CHECK_THROWS_WITH_AS(rec::load_interactions(only_off_scale.ratings, only_off_scale.items, {}, {}, 4.0,
                                              {.low = 5, .high = 1}),
                       doctest::Contains("the rating scale 5:1 must be finite with low <= high"), Error);
}

TEST_CASE("skipped bad rows are counted and located in the cleaning report") {
  const ValidationFiles f;
  const rec::Dataset d =
      rec::load_interactions(f.ratings, f.items, {}, {}, 4.0, {.low = 1, .high = 5, .on_bad_row = rec::BadRows::skip});
  const rec::CleaningReport& c = d.cleaning();
  CHECK(c.rows_read == 8);
  CHECK(c.skipped_bad_rows == 4);
  CHECK(c.missing_ratings == 0);  // "nan" is a bad rating, not an empty cell
  CHECK(d.size() == 4);
  REQUIRE(c.bad_rows.size() == 4);
  CHECK(c.bad_rows[0] == "'" + f.ratings + "' line 5, column 3 ('rating'): inf is not a finite rating");
  CHECK(c.bad_rows[1] == "'" + f.ratings + "' line 7, column 3 ('rating'): -inf is not a finite rating");
  CHECK(c.bad_rows[2] == "'" + f.ratings + "' line 8, column 3 ('rating'): nan is not a finite rating");
  CHECK(c.bad_rows[3] == "'" + f.ratings + "' line 9, column 3 ('rating'): 7 is outside the rating scale 1:5");
  CHECK(c.to_string().find("skipped 4 bad rows") != std::string::npos);
  CHECK(c.to_json().at("skipped_bad_rows").as_int64() == 4);
  CHECK_FALSE(c.rating_scale_inferred);
  for (const rec::Interaction& r : d.interactions()) CHECK((std::isfinite(r.rating) && r.rating >= 1 && r.rating <= 5));
  REQUIRE(d.rating_scale().has_value());
  CHECK(d.rating_scale()->second == 5);
}

TEST_CASE("without a scale, the lowest and highest finite rating are the scale, reported as inferred") {
  const ValidationFiles f;
  const rec::Dataset d = rec::load_interactions(f.ratings, f.items, {}, {}, 4.0, {.low = std::nullopt, .high = std::nullopt, .on_bad_row = rec::BadRows::skip});
  const rec::CleaningReport& c = d.cleaning();
  CHECK(c.skipped_bad_rows == 3);  // inf, -inf, nan; 7 is the top of the inferred scale
  CHECK(c.rating_scale_inferred);
  CHECK(c.rating_scale_text() == "1:7");
  CHECK(c.to_string().find("ratings on the scale 1:7 (inferred") != std::string::npos);
  CHECK(c.to_json().at("rating_scale").at(1).as_double() == 7);
  // The scale travels with the data: subsets and a saved folder keep it.
  CHECK(d.subset(std::vector<std::int64_t>{0}).rating_scale() == d.rating_scale());
  TempDir saved("validation_saved");
  d.save(saved.str());
  CHECK(rec::load_dataset(saved.str()).rating_scale() == d.rating_scale());
}

TEST_CASE("an empty timestamp column of a million rows loads in linear time") {
  // The fill of rows before a user's first timestamp scanned forward from each one: 10^6 rows without
  // any timestamp took about n^2 / 2 = 5e11 steps (hours). Not timed: a regression would not finish.
  TempDir dir("validation_timestamps");
  const std::int64_t n = 1'000'000;
  std::string text = "user_id,item_id,rating,timestamp\n";
  text.reserve(static_cast<std::size_t>(n) * 16);
  for (std::int64_t r = 0; r < n; ++r) {  // distinct (user, item) pairs: nothing merges away
    text += std::to_string(r % 1000);
    text += ',';
    text += std::to_string(r / 1000);
    text += ",4,\n";
  }
  write_text(dir.file("user_data.csv"), text);
  write_text(dir.file("item_data.csv"), kValidationItems);
  const rec::Dataset d = rec::load_interactions(dir.file("user_data.csv"), dir.file("item_data.csv"));
  CHECK(d.cleaning().missing_timestamps == n);
  CHECK(d.cleaning().filled_timestamps == n);
  CHECK(d.size() == n);
  std::int64_t nonzero = 0;
  for (const rec::Interaction& r : d.interactions()) nonzero += r.timestamp != 0;
  CHECK(nonzero == 0);
}

TEST_CASE("rows before a user's first timestamp take the next one, later gaps the previous one") {
  const ValidationFiles f("user_id,item_id,rating,timestamp\n1,1,4,\n2,1,3,\n1,2,5,50\n2,2,4,\n3,1,2,\n2,3,1,70\n");
  const rec::Dataset d = rec::load_interactions(f.ratings, f.items);
  std::vector<std::int64_t> t;
  for (const rec::Interaction& r : d.interactions()) t.push_back(r.timestamp);
  CHECK(t == std::vector<std::int64_t>{50, 70, 50, 70, 0, 70});
}

TEST_CASE("training that diverges stops with the epoch, the step, the loss and advice") {
  rec::FitOptions o = rec::default_options("mf");
  o.optimizer = "sgd";
  o.lr = 1e6;
  o.epochs = 20;
  o.verbose = 0;
  auto model = rec::make_recommender("mf", o);
  CHECK_THROWS_WITH_AS(model->fit(recsys::testing::tiny_dataset()),
                       doctest::Contains("mf.fit: the training loss became "), Error);
  try {
    model->fit(recsys::testing::tiny_dataset());
  } catch (const Error& e) {
    const std::string m = e.what();
    CHECK(m.find(" at epoch ") != std::string::npos);
    CHECK(m.find(", step 1: training diverged; lower the learning rate (--lr, now 1e+06)") != std::string::npos);
  }
  CHECK_NOTHROW(check_finite_loss(0.5, "x", 1, 1, 0.1));
  CHECK_THROWS_WITH_AS(check_finite_loss(std::nan(""), "fit", 3, 17, 0.01),
                       doctest::Contains("fit: the training loss became nan at epoch 3, step 17: training diverged; "
                                         "lower the learning rate (--lr, now 0.01)"),
                       Error);
}

TEST_CASE("a model with a non-finite weight is never saved, and such a file never loads") {
  rec::FitOptions o = rec::default_options("mf");
  o.epochs = 2;
  o.verbose = 0;
  auto model = rec::make_recommender("mf", o);
  model->fit(recsys::testing::tiny_dataset());
  TempDir dir("validation_model");
  const std::string good = dir.file("good"), bad = dir.file("bad");
  model->save(good);
  CHECK_NOTHROW(rec::load_recommender(good));

  // A weight file of NaNs next to a sound model.json: refused, naming the tensor.
  std::filesystem::copy(good, bad, std::filesystem::copy_options::recursive);
  NamedTensors tensors = io::load_safetensors(good + "/model.safetensors");
  tensors[0].second.data<float>()[3] = std::numeric_limits<float>::quiet_NaN();
  io::save_safetensors(bad + "/model.safetensors", tensors, {{"model", "mf"}});
  const std::string load_error =
      "mf.load: '" + bad + "/model.safetensors': tensor '" + tensors[0].first + "' holds a non-finite value (nan at [";
  CHECK_THROWS_WITH_AS(rec::load_recommender(bad), doctest::Contains(load_error.c_str()), Error);

  // A fitted model whose weights went NaN: save refuses before writing anything.
  auto& mf = dynamic_cast<rec::MatrixFactorization&>(*model);
  mf.factors().item_bias.embeddings().data<float>()[1] = std::numeric_limits<float>::infinity();
  const std::string never = dir.file("never");
  const std::string save_error = "mf.save: not saving '" + never + "': tensor '";
  CHECK_THROWS_WITH_AS(model->save(never), doctest::Contains(save_error.c_str()), Error);
  CHECK_FALSE(std::filesystem::exists(never));
}

TEST_CASE("predicted ratings are clipped to the rating scale, ranking scores are not") {
  rec::FitOptions o = rec::default_options("mf");
  o.epochs = 2;
  o.verbose = 0;
  auto model = rec::make_recommender("mf", o);
  const rec::Dataset data = recsys::testing::tiny_dataset();  // ratings 1..5, built in code: the scale is their range
  model->fit(data);
  auto& mf = dynamic_cast<rec::MatrixFactorization&>(*model);
  mf.factors().item_bias.embeddings().data<float>()[0] = 100.0f;  // item m0 far above the top of the scale
  mf.factors().item_bias.embeddings().data<float>()[1] = -100.0f;
  const std::vector<double> p = model->predict(data);
  for (std::int64_t r = 0; r < data.size(); ++r) {
    INFO("row ", r);
    CHECK(p[static_cast<std::size_t>(r)] >= 1.0);
    CHECK(p[static_cast<std::size_t>(r)] <= 5.0);
    if (data[r].item == 0) CHECK(p[static_cast<std::size_t>(r)] == 5.0);
    if (data[r].item == 1) CHECK(p[static_cast<std::size_t>(r)] == 1.0);
  }
  CHECK(model->score(0, std::vector<std::int64_t>{0})[0] > 50);  // the ranking keeps its order
  // The scale is saved with the model.
  TempDir dir("validation_clip");
  model->save(dir.str());
  const std::vector<double> again = rec::load_recommender(dir.str())->predict(data);
  CHECK(again == p);
}

TEST_CASE("cross-validation checks the class balance before the first fold") {
  rec::Dataset data = recsys::testing::tiny_dataset();  // 5 liked (>= 4), 3 not
  rec::FitOptions o = rec::default_options("mf");
  o.verbose = 0;
  CHECK_THROWS_WITH_AS(rec::cross_validate("mf", data, o, 5),
                       "cross_validate: 5-fold cross-validation needs at least 5 liked and 5 not-liked interactions "
                       "(liked = rating >= 4), and these data have 5 liked and 3 not liked; use fewer folds or a "
                       "protocol that ranks (split, leave-last-out)",
                       Error);
}
