// tests/cpu/gemm_test.cpp — cpu::gemm: every SIMD kernel set against the reference and exact sums, layouts, batches, threads.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "recsys/core/parallel.hpp"
#include "recsys/core/random.hpp"
#include "recsys/cpu/gemm.hpp"

using namespace recsys;
using cpu::SgemmKernels;

namespace {

/// The kernel sets this CPU can run, portable first.
std::vector<const SgemmKernels*> kernel_sets() {
  std::vector<const SgemmKernels*> sets{&cpu::portable_sgemm_kernels()};
#if RECSYS_X86_SIMD
  const cpu::SimdLevel level = cpu::detect_simd_level();
  if (level != cpu::SimdLevel::portable) sets.push_back(&cpu::avx2_sgemm_kernels());
  if (level == cpu::SimdLevel::avx512) sets.push_back(&cpu::avx512_sgemm_kernels());
#endif
  return sets;
}

/// One GEMM problem: sizes, layout and scalars. Leading dimensions are cols + pad (pad may be
/// negative for A: overlapping rows, like conv windows); C's padding is filled with a sentinel.
struct Case {
  bool trans_a = false, trans_b = false;
  std::int64_t m = 1, n = 1, k = 1, batch = 1;
  float alpha = 1, beta = 0;
  std::int64_t pad_a = 0, pad_b = 0, pad_c = 0;
  bool shared_a = false, shared_b = false;  // batch stride 0
  bool nan_c = false;                       // C starts as NaN (legal only when beta == 0)
};

std::string describe(const Case& c) {
  return "m=" + std::to_string(c.m) + " n=" + std::to_string(c.n) + " k=" + std::to_string(c.k) +
         " batch=" + std::to_string(c.batch) + " trans_a=" + std::to_string(c.trans_a) +
         " trans_b=" + std::to_string(c.trans_b) + " alpha=" + std::to_string(c.alpha) +
         " beta=" + std::to_string(c.beta) + " pads=" + std::to_string(c.pad_a) + "," + std::to_string(c.pad_b) +
         "," + std::to_string(c.pad_c);
}

constexpr float kSentinel = -12345.0f;

/// Operands and result buffers for a Case, with random values in [-1, 1).
struct Problem {
  Case cs;
  GemmArgs<float> p;
  std::vector<float> a, b, c0;  // c0: C before the call

  explicit Problem(const Case& c, std::uint64_t seed) : cs(c) {
    Generator gen(seed);
    const std::int64_t a_rows = c.trans_a ? c.k : c.m, a_cols = c.trans_a ? c.m : c.k;
    const std::int64_t b_rows = c.trans_b ? c.n : c.k, b_cols = c.trans_b ? c.k : c.n;
    p.trans_a = c.trans_a;
    p.trans_b = c.trans_b;
    p.m = c.m;
    p.n = c.n;
    p.k = c.k;
    p.batch = c.batch;
    p.alpha = c.alpha;
    p.beta = c.beta;
    p.lda = a_cols + c.pad_a;
    p.ldb = b_cols + c.pad_b;
    p.ldc = c.n + c.pad_c;
    const std::int64_t a_size = (a_rows - 1) * p.lda + a_cols, b_size = (b_rows - 1) * p.ldb + b_cols;
    const std::int64_t c_size = c.m * p.ldc;
    p.stride_a = c.shared_a ? 0 : a_size + 5;
    p.stride_b = c.shared_b ? 0 : b_size + 3;
    p.stride_c = c_size + 2;
    a = random_values(static_cast<std::size_t>(p.stride_a * (c.batch - 1) + a_size), gen);
    b = random_values(static_cast<std::size_t>(p.stride_b * (c.batch - 1) + b_size), gen);
    c0.assign(static_cast<std::size_t>(p.stride_c * c.batch), kSentinel);
    for (std::int64_t bi = 0; bi < c.batch; ++bi)
      for (std::int64_t i = 0; i < c.m; ++i)
        for (std::int64_t j = 0; j < c.n; ++j)
          c0[static_cast<std::size_t>(bi * p.stride_c + i * p.ldc + j)] =
              c.nan_c ? std::numeric_limits<float>::quiet_NaN() : uniform01(gen) * 2.0f - 1.0f;
  }

  static float uniform01(Generator& gen) { return static_cast<float>(gen.uniform()); }
  static std::vector<float> random_values(std::size_t count, Generator& gen) {
    std::vector<float> v(count);
    for (float& x : v) x = uniform01(gen) * 2.0f - 1.0f;
    return v;
  }

  float a_at(std::int64_t bi, std::int64_t i, std::int64_t k) const {
    const std::int64_t off = bi * p.stride_a + (cs.trans_a ? k * p.lda + i : i * p.lda + k);
    return a[static_cast<std::size_t>(off)];
  }
  float b_at(std::int64_t bi, std::int64_t k, std::int64_t j) const {
    const std::int64_t off = bi * p.stride_b + (cs.trans_b ? j * p.ldb + k : k * p.ldb + j);
    return b[static_cast<std::size_t>(off)];
  }

  /// C after running `kernels` (nullptr: the reference kernel).
  std::vector<float> run(const SgemmKernels* kernels) const {
    std::vector<float> c = c0;
    GemmArgs<float> q = p;
    q.a = a.data();
    q.b = b.data();
    q.c = c.data();
    if (kernels != nullptr)
      cpu::sgemm(*kernels, q);
    else
      cpu::gemm_reference(q);
    return c;
  }

  /// Checks c against the exact (double) result: each element within a float rounding bound
  /// scaled by the magnitudes summed, and the padding of C untouched.
  void check(const std::vector<float>& c, const std::string& who) const {
    INFO(who, ": ", describe(cs));
    REQUIRE(c.size() == c0.size());
    int failures = 0;
    for (std::int64_t bi = 0; bi < cs.batch; ++bi)
      for (std::int64_t i = 0; i < cs.m; ++i)
        for (std::int64_t j = 0; j < cs.n; ++j) {
          double exact = 0, magnitude = 0;
          for (std::int64_t k = 0; k < cs.k; ++k) {
            const double prod = static_cast<double>(a_at(bi, i, k)) * b_at(bi, k, j);
            exact += prod;
            magnitude += std::fabs(prod);
          }
          exact *= cs.alpha;
          magnitude *= std::fabs(cs.alpha);
          const std::size_t at = static_cast<std::size_t>(bi * p.stride_c + i * p.ldc + j);
          if (cs.beta != 0.0f) {
            exact += static_cast<double>(cs.beta) * c0[at];
            magnitude += std::fabs(static_cast<double>(cs.beta) * c0[at]);
          }
          const double tol = static_cast<double>(cs.k + 4) * 1.2e-7 * magnitude + 1e-30;
          if (!(std::fabs(c[at] - exact) <= tol) && failures++ < 3) {
            INFO("C[", bi, "][", i, "][", j, "] = ", c[at], ", exact ", exact, ", tolerance ", tol);
            CHECK(false);
          }
        }
    CHECK(failures == 0);
    for (std::size_t at = 0; at < c.size(); ++at)  // row padding and the gaps between batches
      if (c0[at] == kSentinel && c[at] != kSentinel) {
        INFO("element ", at, " outside C was written");
        CHECK(false);
        break;
      }
  }
};

/// Runs a case through the reference and every kernel set, checking each against the exact sum.
void check_all(const Case& cs, std::uint64_t seed = 1) {
  const Problem prob(cs, seed);
  prob.check(prob.run(nullptr), "reference");
  for (const SgemmKernels* ks : kernel_sets()) prob.check(prob.run(ks), ks->name);
}

/// Restores the OpenMP thread count when a test ends.
struct ThreadCountGuard {
  int saved = num_threads();
  ~ThreadCountGuard() { set_num_threads(saved); }
};

}  // namespace

TEST_CASE("gemm by hand: 2x3 · 3x2, with alpha and beta") {
  const std::vector<float> a{1, 2, 3, 4, 5, 6}, b{7, 8, 9, 10, 11, 12};
  std::vector<float> c{1, 1, 1, 1};
  GemmArgs<float> p;
  p.m = 2;
  p.n = 2;
  p.k = 3;
  p.a = a.data();
  p.lda = 3;
  p.b = b.data();
  p.ldb = 2;
  p.c = c.data();
  p.ldc = 2;
  cpu::gemm(p);
  CHECK(c == std::vector<float>{58, 64, 139, 154});
  p.alpha = 2;
  p.beta = -1;
  cpu::gemm(p);  // 2·AB - C = AB
  CHECK(c == std::vector<float>{58, 64, 139, 154});
  for (const SgemmKernels* ks : kernel_sets()) {
    INFO(ks->name);
    c.assign(4, std::numeric_limits<float>::quiet_NaN());
    p.alpha = 1;
    p.beta = 0;  // C is never read: NaN must not leak in
    cpu::sgemm(*ks, p);
    CHECK(c == std::vector<float>{58, 64, 139, 154});
  }
  // op(A) = Aᵀ with A 3×2, op(B) = Bᵀ with B 2×3.
  const std::vector<float> at{1, 4, 2, 5, 3, 6}, bt{7, 9, 11, 8, 10, 12};
  p = {};
  p.trans_a = p.trans_b = true;
  p.m = p.n = 2;
  p.k = 3;
  p.a = at.data();
  p.lda = 2;
  p.b = bt.data();
  p.ldb = 3;
  p.c = c.data();
  p.ldc = 2;
  cpu::gemm(p);
  CHECK(c == std::vector<float>{58, 64, 139, 154});
}

TEST_CASE("the dispatched kernel set is the best one this CPU supports") {
  const cpu::SimdLevel level = cpu::simd_level();
  CHECK(static_cast<int>(level) <= static_cast<int>(cpu::detect_simd_level()));
  CHECK(std::string(cpu::sgemm_kernels().name) == cpu::simd_level_name(level));
  CHECK(std::string(cpu::simd_level_name(cpu::SimdLevel::avx2)) == "avx2");
}

TEST_CASE("every kernel set matches the exact product on odd sizes and all transposes") {
  for (const std::int64_t m : {1, 7, 12, 13, 33, 129})
    for (const std::int64_t n : {1, 7, 16, 33, 65})
      for (const std::int64_t k : {1, 7, 33, 400})
        for (int layout = 0; layout < 4; ++layout) {
          Case cs;
          cs.m = m;
          cs.n = n;
          cs.k = k;
          cs.trans_a = (layout & 1) != 0;
          cs.trans_b = (layout & 2) != 0;
          check_all(cs, static_cast<std::uint64_t>(m * 1000000 + n * 1000 + k * 4 + layout));
        }
}

TEST_CASE("large and skinny shapes, several K blocks, alpha and beta") {
  const Case cases[] = {
      {false, false, 1000, 33, 129, 1, 1.0f, 0.0f},   {true, false, 33, 1000, 7, 1, 0.5f, 2.0f},
      {false, true, 129, 130, 2100, 1, -1.5f, 0.25f}, {true, true, 250, 70, 800, 1, 1.0f, 1.0f},
      {false, false, 32, 512, 128, 1, 1.0f, 0.0f},    {false, true, 32, 128, 512, 1, 1.0f, 1.0f},
      {true, false, 128, 512, 32, 1, 1.0f, 1.0f},     {false, false, 300, 300, 769, 1, 1.0f, 0.5f},
  };
  for (const Case& cs : cases) check_all(cs, static_cast<std::uint64_t>(cs.m + cs.n + cs.k));
}

TEST_CASE("leading dimensions larger than the rows, overlapping windows, and ld 0 where only one row is read") {
  Case padded;  // every ld > cols; C's padding must stay untouched
  padded.m = 37;
  padded.n = 45;
  padded.k = 50;
  padded.pad_a = 3;
  padded.pad_b = 5;
  padded.pad_c = 7;
  padded.beta = 0.5f;
  for (int layout = 0; layout < 4; ++layout) {
    padded.trans_a = (layout & 1) != 0;
    padded.trans_b = (layout & 2) != 0;
    check_all(padded);
  }
  Case window;  // conv over channels-last input: row i of A is x[i·8 .. i·8 + 24), lda = 8 < k = 24
  window.m = 40;
  window.n = 70;
  window.k = 24;
  window.pad_a = 8 - 24;
  check_all(window);
  window.trans_a = true;  // the weight gradient reads the same windows transposed: A is k×m, lda < m
  window.m = 24;
  window.k = 40;
  window.pad_a = 8 - 24;
  check_all(window);
  // A single row of A (m = 1) or column of op(B) (n = 1, B transposed) never steps by ld.
  Case row;
  row.m = 1;
  row.n = 40;
  row.k = 33;
  row.pad_a = -33;  // lda = 0
  check_all(row);
  Case col;
  col.m = 20;
  col.n = 1;
  col.k = 33;
  col.trans_b = true;
  col.pad_b = -33;  // ldb = 0
  check_all(col);
}

TEST_CASE("batches with their own and with shared operands, and beta == 0 never reads C") {
  for (const std::int64_t batch : {1, 2, 3, 5}) {
    Case cs;
    cs.m = 45;
    cs.n = 70;
    cs.k = 30;
    cs.batch = batch;
    cs.pad_c = 2;
    check_all(cs);
    cs.shared_b = true;  // one weight for every batch, as a convolution uses it
    cs.beta = 1;
    check_all(cs);
    cs.shared_a = true;
    cs.shared_b = false;
    cs.trans_a = true;
    check_all(cs);
    cs.beta = 0;
    cs.nan_c = true;
    check_all(cs);
  }
}

TEST_CASE("a shared B packed once for the batch: several K blocks and column panels, both layouts") {
  Case cs;
  cs.m = 13;
  cs.n = 3100;  // two column panels of the packed B
  cs.k = 1100;  // two K blocks
  cs.batch = 2;
  cs.shared_b = true;
  cs.pad_c = 1;
  check_all(cs);
  cs.trans_b = true;
  cs.beta = 1;
  check_all(cs);
}

TEST_CASE("empty sizes: m, n or batch 0 is a no-op, and k == 0 scales C by beta") {
  for (const SgemmKernels* ks : kernel_sets()) {
    INFO(ks->name);
    std::vector<float> c{1, 2, 3, 4};
    GemmArgs<float> p;
    p.m = 2;
    p.n = 2;
    p.k = 0;
    p.c = c.data();
    p.ldc = 2;
    p.beta = 3;
    cpu::sgemm(*ks, p);
    CHECK(c == std::vector<float>{3, 6, 9, 12});
    p.beta = 0;
    c.assign(4, std::numeric_limits<float>::quiet_NaN());
    cpu::sgemm(*ks, p);
    CHECK(c == std::vector<float>{0, 0, 0, 0});
    p.k = 3;
    p.m = 0;
    c.assign(4, 7.0f);
    cpu::sgemm(*ks, p);  // a and b are null: nothing may be read
    p.m = 2;
    p.batch = 0;
    cpu::sgemm(*ks, p);
    CHECK(c == std::vector<float>{7, 7, 7, 7});
  }
}

TEST_CASE("results are bitwise identical for 1 and 2 threads") {
  ThreadCountGuard guard;
  // Shapes that split over rows, over columns (small m), over batches, and a ragged batch.
  const Case cases[] = {
      {false, false, 500, 64, 800, 1, 1.0f, 0.0f}, {false, false, 32, 512, 300, 1, 1.0f, 0.5f},
      {false, true, 32, 128, 512, 1, 1.0f, 0.0f},  {true, false, 128, 512, 1568, 1, 1.0f, 1.0f},
      {false, false, 98, 128, 384, 4, 1.0f, 0.0f}, {true, true, 77, 99, 500, 3, 2.0f, 1.0f},
      // a shared B (a convolution's weight) over an even and a ragged batch
      {false, false, 98, 128, 384, 4, 1.0f, 0.0f, 0, 0, 0, false, true},
      {false, true, 98, 128, 128, 3, 1.0f, 1.0f, 0, 0, 0, false, true},
  };
  for (const Case& cs : cases) {
    const Problem prob(cs, 7);
    for (const SgemmKernels* ks : kernel_sets()) {
      INFO(ks->name, ": ", describe(cs));
      set_num_threads(1);
      const std::vector<float> one = prob.run(ks);
      set_num_threads(2);
      const std::vector<float> two = prob.run(ks);
      CHECK(std::memcmp(one.data(), two.data(), one.size() * sizeof(float)) == 0);
    }
  }
}

TEST_CASE("gemm<double> (the gradcheck path) matches the exact product") {
  const std::int64_t m = 19, n = 23, k = 300;
  std::vector<double> a(static_cast<std::size_t>(k * m)), b(static_cast<std::size_t>(n * k)),
      c(static_cast<std::size_t>(m * n), 1.0);
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = std::sin(static_cast<double>(i));
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = std::cos(static_cast<double>(i));
  GemmArgs<double> p;
  p.trans_a = p.trans_b = true;
  p.m = m;
  p.n = n;
  p.k = k;
  p.alpha = 2;
  p.beta = -1;
  p.a = a.data();
  p.lda = m;
  p.b = b.data();
  p.ldb = k;
  p.c = c.data();
  p.ldc = n;
  cpu::gemm(p);
  for (std::int64_t i = 0; i < m; ++i)
    for (std::int64_t j = 0; j < n; ++j) {
      double exact = -1;
      for (std::int64_t q = 0; q < k; ++q) exact += 2 * a[static_cast<std::size_t>(q * m + i)] * b[static_cast<std::size_t>(j * k + q)];
      CHECK(c[static_cast<std::size_t>(i * n + j)] == doctest::Approx(exact).epsilon(1e-12));
    }
}
