// recsys/autograd/gradcheck.hpp — compares autograd gradients with central finite differences in double precision.
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "recsys/core/factory.hpp"
#include "recsys/core/tensor.hpp"
#include "recsys/ops/binary.hpp"
#include "recsys/ops/reduce.hpp"

namespace recsys::autograd {

/// Outcome of gradcheck: where the analytic and numeric gradients disagree most.
struct GradcheckResult {
  bool ok = true;
  int input = -1;            // which input holds the worst element
  std::int64_t index = -1;   // its flat (row-major) index
  double analytic = 0, numeric = 0;
  double error = 0;          // |analytic - numeric| / (atol + rtol * |numeric|); ok when <= 1
  std::string message;       // human-readable summary
};

struct GradcheckOptions {
  double eps = 1e-6;   // finite-difference step
  double atol = 1e-5;
  double rtol = 1e-3;
  std::uint64_t seed = 1234;  // for the random projection of non-scalar outputs
};

/// Checks d f(inputs) / d inputs for every input that requires grad. Inputs must be float64. A
/// non-scalar output is reduced to a scalar by a fixed random projection sum(f(x) * r), which
/// checks the full Jacobian-vector product in one backward pass. Inputs may be strided views but
/// must not overlap themselves (no expanded dims), since each element is perturbed on its own.
inline GradcheckResult gradcheck(const std::function<Tensor(const TensorList&)>& f, const TensorList& inputs,
                                 GradcheckOptions opts = {}) {
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    RECSYS_CHECK(inputs[i].dtype() == DType::float64 || !inputs[i].requires_grad(), "gradcheck: input ", i,
                 " is ", inputs[i].dtype(), "; use float64 so finite differences are accurate");
    RECSYS_CHECK(inputs[i].device().is_cpu(), "gradcheck: input ", i, " must be on the CPU");
    for (int d = 0; d < inputs[i].dim(); ++d)
      RECSYS_CHECK(inputs[i].stride(d) != 0 || inputs[i].size(d) <= 1, "gradcheck: input ", i,
                   " has an expanded (stride 0) dimension; perturbing one element would move several");
  }
  Tensor probe;
  auto scalar_loss = [&](const TensorList& xs) {
    Tensor out = f(xs);
    if (!probe.defined()) {
      Generator gen(opts.seed);
      probe = randn(out.shape(), gen, DType::float64);
    }
    return sum(mul(out, probe));
  };

  for (const Tensor& x : inputs)
    if (x.requires_grad()) x.set_grad(Tensor());
  scalar_loss(inputs).backward();

  GradcheckResult worst;
  worst.error = -1;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& x = inputs[i];
    if (!x.requires_grad()) continue;
    const Tensor grad = x.grad();
    const std::vector<double> analytic = grad.defined() ? grad.to_vector<double>() : std::vector<double>(x.numel(), 0.0);
    const Shape strides = x.strides();
    double* base = x.data<double>();
    for (std::int64_t flat = 0; flat < x.numel(); ++flat) {
      std::int64_t rem = flat, offset = 0;  // storage offset of element `flat`
      for (int d = x.dim() - 1; d >= 0; --d) {
        offset += (rem % x.size(d)) * strides[d];
        rem /= x.size(d);
      }
      double& v = base[offset];
      const double saved = v;
      double plus, minus;
      {
        NoGradGuard no_grad;
        v = saved + opts.eps;
        plus = scalar_loss(inputs).item<double>();
        v = saved - opts.eps;
        minus = scalar_loss(inputs).item<double>();
        v = saved;
      }
      const double numeric = (plus - minus) / (2 * opts.eps);
      const double a = analytic[static_cast<std::size_t>(flat)];
      const double err = std::fabs(a - numeric) / (opts.atol + opts.rtol * std::fabs(numeric));
      if (!(err <= worst.error)) {  // also catches NaN
        worst.error = err;
        worst.input = static_cast<int>(i);
        worst.index = flat;
        worst.analytic = a;
        worst.numeric = numeric;
      }
    }
  }
  worst.ok = worst.error <= 1.0;
  std::ostringstream msg;
  if (worst.input < 0) {
    msg << "gradcheck: no input requires grad";
    worst.ok = false;
  } else {
    msg << "gradcheck " << (worst.ok ? "passed" : "FAILED") << ": worst element is input " << worst.input
        << " index " << worst.index << ", analytic " << worst.analytic << ", numeric " << worst.numeric
        << " (error " << worst.error << " of tolerance)";
  }
  worst.message = msg.str();
  return worst;
}

}  // namespace recsys::autograd

namespace recsys {
using autograd::gradcheck;
}
