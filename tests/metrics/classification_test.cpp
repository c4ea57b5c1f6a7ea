// tests/metrics/classification_test.cpp — classification and regression metrics: hand-worked values, sklearn's edge-case conventions, error messages.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

#include <recsys/metrics/classification.hpp>
#include <recsys/metrics/regression.hpp>

#include "test_util.hpp"

using namespace recsys;
using namespace recsys::metrics;
using doctest::Approx;
using doctest::Contains;

TEST_CASE("binary counts by hand") {
  // tp = 2 (rows 0, 3), fp = 1 (row 4), fn = 1 (row 2), tn = 2 (rows 1, 5).
  const std::vector<int> yt{1, 0, 1, 1, 0, 0}, yp{1, 0, 0, 1, 1, 0};
  CHECK(accuracy(yt, yp) == Approx(4.0 / 6));
  CHECK(precision(yt, yp) == Approx(2.0 / 3));
  CHECK(recall(yt, yp) == Approx(2.0 / 3));
  CHECK(f1(yt, yp) == Approx(2.0 / 3));
  const ConfusionMatrix cm = confusion_matrix(yt, yp);
  CHECK(cm.labels == std::vector<int>{0, 1});
  CHECK(cm.counts == std::vector<std::int64_t>{2, 1, 1, 2});
  CHECK(cm.count(1, 0) == 1);
  // pos_label = 0: tp = 2 (rows 1, 5), fp = 1 (row 2), fn = 1 (row 4).
  CHECK(precision(yt, yp, {.pos_label = 0}) == Approx(2.0 / 3));
  // Another split: tp 1, fp 2, fn 0 -> P = 1/3, R = 1, F1 = 2/(2+2) = 0.5.
  const std::vector<int> yt2{1, 0, 0}, yp2{1, 1, 1};
  CHECK(precision(yt2, yp2) == Approx(1.0 / 3));
  CHECK(recall(yt2, yp2) == 1.0);
  CHECK(f1(yt2, yp2) == Approx(0.5));
}

TEST_CASE("zero_division decides 0/0 ratios, as in sklearn") {
  const std::vector<int> all_zero{0, 0, 0};
  CHECK(precision(all_zero, all_zero) == 0.0);
  CHECK(recall(all_zero, all_zero) == 0.0);
  CHECK(f1(all_zero, all_zero) == 0.0);
  CHECK(f1(all_zero, all_zero, {.zero_division = 1.0}) == 1.0);
  CHECK(recall(all_zero, std::vector<int>{1, 0, 0}, {.zero_division = 1.0}) == 1.0);
  // Precision and recall both 0 but their denominators are not: F1 is 0, not zero_division.
  CHECK(f1(std::vector<int>{1, 0}, std::vector<int>{0, 1}, {.zero_division = 1.0}) == 0.0);
}

TEST_CASE("roc_auc, average_precision and log_loss by hand") {
  // sklearn's documentation example: 3 of the 4 (positive, negative) pairs are ordered correctly.
  const std::vector<int> y{0, 0, 1, 1};
  const std::vector<double> s{0.1, 0.4, 0.35, 0.8};
  CHECK(roc_auc(y, s) == Approx(0.75));
  // Thresholds 0.8, 0.4, 0.35: recall steps 1/2 at precision 1, then 1/2 at precision 2/3.
  CHECK(average_precision(y, s) == Approx(0.5 * 1 + 0.5 * 2.0 / 3));
  // A tie between a positive and a negative counts one half.
  CHECK(roc_auc(std::vector<int>{1, 0}, std::vector<double>{0.5, 0.5}) == 0.5);
  CHECK(roc_auc(std::vector<int>{1, 0, 1}, std::vector<double>{0.9, 0.5, 0.5}) == 0.75);
  CHECK(log_loss(std::vector<int>{1, 0}, std::vector<double>{0.8, 0.3}) ==
        Approx(-(std::log(0.8) + std::log(0.7)) / 2));
  // Certain and wrong: clipped at eps rather than infinite.
  const double eps = std::numeric_limits<double>::epsilon();
  CHECK(log_loss(std::vector<int>{0}, std::vector<double>{1.0}) == Approx(-std::log(eps)));
  CHECK(log_loss(std::vector<int>{1}, std::vector<double>{1.0}) == Approx(-std::log1p(-eps)));
}

TEST_CASE("threshold_scores and binary_accuracy use score > threshold, like Keras") {
  CHECK(threshold_scores(std::vector<double>{0.2, 0.5, 0.51, 0.9}) == std::vector<int>{0, 0, 1, 1});
  CHECK(threshold_scores(std::vector<double>{0.2, 0.5}, 0.1) == std::vector<int>{1, 1});
  CHECK(binary_accuracy(tensor({1.f, 0.f, 1.f, 0.f}), tensor({0.9f, 0.5f, 0.4f, 0.1f})) == 0.75);
}

TEST_CASE("regression metrics by hand") {
  const std::vector<double> y{3, -0.5, 2, 7}, p{2.5, 0.0, 2, 8};
  CHECK(mse(y, p) == Approx(0.375));  // sklearn's docstring example
  CHECK(rmse(y, p) == Approx(std::sqrt(0.375)));
  CHECK(mae(y, p) == Approx(0.5));
  CHECK(mse(tensor({1.0, 2.0}), tensor({1.0, 2.0})) == 0.0);
}

TEST_CASE("classification metric errors") {
  const std::vector<int> empty, one{1}, two{1, 0}, three{0, 1, 2};
  CHECK_THROWS_WITH_AS(accuracy(empty, empty), Contains("accuracy: empty input"), Error);
  CHECK_THROWS_WITH_AS(accuracy(one, two), Contains("accuracy: y_true has 1 elements but y_pred has 2"), Error);
  CHECK_THROWS_WITH_AS(precision(three, three), Contains("precision: average=binary needs at most two distinct labels"),
                       Error);
  CHECK_THROWS_WITH_AS(recall(std::vector<int>{2, 3}, std::vector<int>{3, 2}),
                       Contains("recall: pos_label 1 is not one of the labels present (2, 3)"), Error);
  CHECK_THROWS_WITH_AS(roc_auc(std::vector<int>{1, 1}, std::vector<double>{0.2, 0.3}),
                       Contains("roc_auc: only one class is present in y_true (2 positive, 0 negative)"), Error);
  CHECK_THROWS_WITH_AS(roc_auc(std::vector<int>{1, 2}, std::vector<double>{0.2, 0.3}),
                       Contains("roc_auc: y_true[1] is 2 (binary labels are 0 or 1)"), Error);
  CHECK_THROWS_WITH_AS(roc_auc(two, std::vector<double>{0.2, std::nan("")}),
                       Contains("roc_auc: y_score[1] is nan (values must be finite)"), Error);
  CHECK_THROWS_WITH_AS(average_precision(std::vector<int>{0, 0}, std::vector<double>{0.2, 0.3}),
                       Contains("average_precision: y_true has no positive sample"), Error);
  CHECK_THROWS_WITH_AS(log_loss(two, std::vector<double>{0.2, 1.5}),
                       Contains("log_loss: y_prob[1] is 1.5 (probabilities lie in [0, 1])"), Error);
  CHECK_THROWS_WITH_AS(confusion_matrix(two, two, std::vector<int>{0, 1, 0}),
                       Contains("confusion_matrix: `labels` lists a label twice"), Error);
  CHECK_THROWS_WITH_AS(confusion_matrix(two, two).count(1, 5), Contains("confusion_matrix: label 5 is not in the matrix"),
                       Error);
  CHECK_THROWS_WITH_AS(accuracy(tensor({0.7f, 1.f}), tensor({1.f, 1.f})),
                       Contains("accuracy: y_true[0] is 0.7, not a class label"), Error);
  CHECK_THROWS_WITH_AS(roc_auc(zeros({2, 2}), zeros({4})),
                       Contains("roc_auc: y_true must be one-dimensional (or (n, 1)), got shape"), Error);
  CHECK_THROWS_WITH_AS(roc_auc(Tensor(), zeros({2})), Contains("roc_auc: y_true is an undefined tensor"), Error);
}

TEST_CASE("regression metric errors") {
  const std::vector<double> a{1, 2}, b{1};
  CHECK_THROWS_WITH_AS(mse(a, b), Contains("mse: y_true has 2 elements but y_pred has 1"), Error);
  CHECK_THROWS_WITH_AS(rmse(std::vector<double>{}, std::vector<double>{}), Contains("rmse: empty input"), Error);
  CHECK_THROWS_WITH_AS(mae(a, std::vector<double>{1, INFINITY}), Contains("mae: y_pred[1] is inf"), Error);
}
