// tests/train/loss_metric_test.cpp — compile()'s losses (hand-worked values, gradchecks) and the metric tracker.
#include <doctest/doctest.h>

#include <recsys/train/loss.hpp>
#include <recsys/train/metric.hpp>

#include <cmath>
#include <limits>

#include "test_util.hpp"

using namespace recsys;
using recsys::testing::f64;
using train::Loss;
using train::LossSpec;
using train::Metric;
using train::MetricTracker;

TEST_CASE("Keras losses: hand-worked values") {
  const LossSpec bce(Loss::binary_crossentropy);
  CHECK(bce.name == "binary_crossentropy");
  CHECK(bce.targets == train::TargetKind::values);
  CHECK_FALSE(bce.from_logits);
  // -(log 0.8 + log 0.6) / 2
  CHECK(bce.fn(tensor({0.8, 0.4}, {2, 1}), tensor({1.0, 0.0}, {2, 1})).item() ==
        doctest::Approx((0.22314355131420976 + 0.5108256237659907) / 2).epsilon(1e-12));

  const LossSpec logits(Loss::binary_crossentropy_from_logits);
  CHECK(logits.from_logits);
  // (log(1 + e^0) + log(1 + e^2)) / 2
  CHECK(logits.fn(tensor({0.0, 2.0}), tensor({1.0, 0.0})).item() ==
        doctest::Approx((std::log(2.0) + std::log1p(std::exp(2.0))) / 2).epsilon(1e-12));

  const LossSpec mse(Loss::mean_squared_error);
  CHECK(mse.fn(tensor({1.0, 2.0}), tensor({0.0, 4.0})).item() == 2.5);

  const Tensor probs = tensor({0.7, 0.2, 0.1, 0.1, 0.1, 0.8}, {2, 3});
  const double expected = (-std::log(0.7) - std::log(0.8)) / 2;
  const LossSpec cce(Loss::categorical_crossentropy);
  CHECK(cce.fn(probs, tensor({1.0, 0.0, 0.0, 0.0, 0.0, 1.0}, {2, 3})).item() == doctest::Approx(expected).epsilon(1e-12));
  const LossSpec sparse(Loss::sparse_categorical_crossentropy);
  CHECK(sparse.targets == train::TargetKind::class_ids);
  CHECK(sparse.fn(probs, tensor<std::int64_t>({0, 2})).item() == doctest::Approx(expected).epsilon(1e-12));
  // A zero probability for the true class is clipped to 1e-7 (Keras), not -log(0) = inf.
  CHECK(sparse.fn(tensor({1.0, 0.0}, {1, 2}), tensor<std::int64_t>({1})).item() ==
        doctest::Approx(-std::log(1e-7)).epsilon(1e-9));

  const LossSpec custom("l1", [](const Tensor& p, const Tensor& t) { return sum(abs(p - t)); });
  CHECK(custom.name == "l1");
  CHECK(custom.fn(tensor({1.0, -2.0}), tensor({0.0, 0.0})).item() == 3.0);
}

TEST_CASE("categorical losses: gradcheck through a softmax (float64)") {
  Generator g(3);
  const Tensor logits = testing::param({4, 3}, g);
  const Tensor onehot = tensor({0.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.2, 0.3, 0.5}, {4, 3});  // last row soft
  const Tensor ids = tensor<std::int64_t>({1, 0, 2, 2});
  const LossSpec cce(Loss::categorical_crossentropy), sparse(Loss::sparse_categorical_crossentropy);
  RECSYS_CHECK_GRADCHECK([&](const autograd::TensorList& in) { return cce.fn(softmax(in[0], 1), onehot); }, {logits});
  RECSYS_CHECK_GRADCHECK([&](const autograd::TensorList& in) { return sparse.fn(softmax(in[0], 1), ids); }, {logits});
}

TEST_CASE("categorical losses refuse predictions that are not (N, classes)") {
  const LossSpec cce(Loss::categorical_crossentropy), sparse(Loss::sparse_categorical_crossentropy);
  CHECK_THROWS_WITH_AS(cce.fn(tensor({0.5, 0.5}), tensor({1.0, 0.0})),
                       doctest::Contains("categorical_crossentropy: predictions must be (N, classes), got shape [2]"), Error);
  CHECK_THROWS_WITH_AS(sparse.fn(tensor({0.5, 0.5}), tensor<std::int64_t>({1})),
                       doctest::Contains("sparse_categorical_crossentropy: predictions must be (N, classes), got shape [2]"),
                       Error);
}

TEST_CASE("metric tracker: binary accuracy, precision, recall, auc, mae, mse over several batches (hand-worked)") {
  MetricTracker m({Metric::accuracy, Metric::precision, Metric::recall, Metric::auc, Metric::mae, Metric::mse}, false);
  m.reset(6);
  for (const Metric k : m.metrics()) CHECK(std::isnan(m.value(k)));
  // scores 0.9 0.6 0.4 | 0.2 0.5 0.7 against labels 1 0 1 | 0 1 1.
  // Thresholded (> 0.5; 0.5 itself is negative): 1 1 0 0 0 1 -> tp 2, fp 1, fn 2, tn 1.
  m.update(tensor({0.9f, 0.6f, 0.4f}, {3, 1}), tensor({1.f, 0.f, 1.f}, {3, 1}));
  m.update(tensor({0.2f, 0.5f, 0.7f}, {3, 1}), tensor({0.f, 1.f, 1.f}, {3, 1}));
  CHECK(m.value(Metric::accuracy) == doctest::Approx(3.0 / 6));
  CHECK(m.value(Metric::precision) == doctest::Approx(2.0 / 3));
  CHECK(m.value(Metric::recall) == doctest::Approx(2.0 / 4));
  // Positives 0.9 0.4 0.5 0.7 vs negatives 0.6 0.2: pairs won 2 + 1 + 1 + 2 = 6 of 8.
  CHECK(m.value(Metric::auc) == doctest::Approx(6.0 / 8));
  CHECK(m.value(Metric::mae) == doctest::Approx((0.1 + 0.6 + 0.6 + 0.2 + 0.5 + 0.3) / 6).epsilon(1e-6));
  CHECK(m.value(Metric::mse) == doctest::Approx((0.01 + 0.36 + 0.36 + 0.04 + 0.25 + 0.09) / 6).epsilon(1e-6));
  train::Logs logs;
  m.append_to(logs, "val_", /*cheap_only=*/true);
  CHECK(logs.size() == 5);  // auc left out
  CHECK(logs[0].first == "val_accuracy");
  m.reset(0);
  CHECK(std::isnan(m.value(Metric::accuracy)));
}

TEST_CASE("metric tracker: scores of a loss on logits threshold at 0, auc is NaN with one class") {
  MetricTracker m({Metric::accuracy, Metric::auc}, /*from_logits=*/true);
  m.reset(3);
  m.update(tensor({-1.0, 0.5, 2.0}), tensor({0.0, 0.0, 1.0}));
  CHECK(m.value(Metric::accuracy) == doctest::Approx(2.0 / 3));
  CHECK(m.value(Metric::auc) == 1.0);
  m.reset(2);
  m.update(tensor({0.3, 0.5}), tensor({1.0, 1.0}));
  CHECK(std::isnan(m.value(Metric::auc)));
}

TEST_CASE("metric tracker: categorical accuracy against class ids and one-hot rows") {
  const Tensor scores = tensor({0.1f, 0.7f, 0.2f, 0.5f, 0.3f, 0.2f, 0.3f, 0.3f, 0.4f}, {3, 3});  // arg-max 1, 0, 2
  MetricTracker ids({Metric::accuracy}, false);
  ids.reset(3);
  ids.update(scores, tensor<std::int64_t>({1, 2, 2}));
  CHECK(ids.value(Metric::accuracy) == doctest::Approx(2.0 / 3));
  MetricTracker onehot({Metric::accuracy}, false);
  onehot.reset(3);
  onehot.update(scores, tensor({0.f, 1.f, 0.f, 1.f, 0.f, 0.f, 1.f, 0.f, 0.f}, {3, 3}));
  CHECK(onehot.value(Metric::accuracy) == doctest::Approx(2.0 / 3));
}

TEST_CASE("metric tracker errors") {
  MetricTracker auc({Metric::auc}, false);
  auc.reset(2);
  CHECK_THROWS_WITH_AS(auc.update(zeros({2, 3}), tensor<std::int64_t>({0, 1})),
                       doctest::Contains("auc: needs one score per sample ((N) or (N, 1) predictions), got shape [2, 3]"),
                       Error);
  MetricTracker mae({Metric::mae}, false);
  mae.reset(2);
  CHECK_THROWS_WITH_AS(mae.update(zeros({2, 3}), tensor<std::int64_t>({0, 1})),
                       doctest::Contains("mae: needs targets shaped like the predictions, not class ids"), Error);
  CHECK_THROWS_WITH_AS(mae.update(zeros({2, 1}), zeros({3, 1})),
                       doctest::Contains("metrics: predictions have shape [2, 1] but targets have shape [3, 1] (expected 2 target values)"),
                       Error);
  CHECK(train::find_log({{"loss", 1.0}}, "loss") == 1.0);
  CHECK_FALSE(train::find_log({{"loss", 1.0}}, "val_loss").has_value());
}
