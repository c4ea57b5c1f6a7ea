// bench/cuda/cuda_gemm_bench.cpp — our SGEMM (FP32 SIMT, and TF32/BF16 tensor cores) against cuBLAS at 512–8192, with their agreement.
#include <cublas_v2.h>

#include <cmath>
#include <vector>

#include "bench_util.hpp"
#include "recsys/core/tensor.hpp"
#include "recsys/ops/matmul.hpp"

using namespace recsys;

namespace {

cublasHandle_t cublas() {
  static cublasHandle_t h = [] {
    cublasHandle_t handle = nullptr;
    if (cublasCreate(&handle) != CUBLAS_STATUS_SUCCESS) RECSYS_FAIL("cuBLAS: cublasCreate failed");
    return handle;
  }();
  cublasSetStream(h, cuda::current_stream());
  return h;
}

/// Row-major C = A·B through column-major cuBLAS: C^T = B^T·A^T.
void cublas_gemm(const float* a, const float* b, float* c, int n, bool tf32) {
  const float one = 1, zero = 0;
  cublasHandle_t h = cublas();
  const cublasStatus_t st = cublasGemmEx(h, CUBLAS_OP_N, CUBLAS_OP_N, n, n, n, &one, b, CUDA_R_32F, n, a, CUDA_R_32F, n,
                                         &zero, c, CUDA_R_32F, n,
                                         tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
  if (st != CUBLAS_STATUS_SUCCESS) RECSYS_FAIL("cuBLAS: cublasGemmEx failed with status ", static_cast<int>(st));
}

void our_gemm(const float* a, const float* b, float* c, int n) {
  GemmArgs<float> p;
  p.m = p.n = p.k = n;
  p.a = a;
  p.b = b;
  p.c = c;
  p.lda = p.ldb = p.ldc = n;
  gemm_slot<float>(Device::cuda(), p);
}

/// Largest |ours - cuBLAS| relative to the largest |cuBLAS| (both on the same inputs).
double max_rel_diff(const Tensor& ours, const Tensor& ref) {
  const std::vector<float> x = ours.to_vector<float>(), y = ref.to_vector<float>();
  double worst = 0, scale = 1e-30;
  for (std::size_t i = 0; i < x.size(); ++i) {
    worst = std::max(worst, static_cast<double>(std::fabs(x[i] - y[i])));
    scale = std::max(scale, static_cast<double>(std::fabs(y[i])));
  }
  return worst / scale;
}

/// mode 0: ours FP32 vs cuBLAS FP32; 1: ours TF32 vs cuBLAS TF32; 2: ours BF16 (vs cuBLAS TF32 timing).
void BM_gemm(benchmark::State& state, bool ours, int mode) {
  const int n = static_cast<int>(state.range(0));
  Generator g(7);
  const Tensor a = randn({n, n}, g).to(Device::cuda()), b = randn({n, n}, g).to(Device::cuda());
  Tensor c = empty({n, n}, Device::cuda()), ref = empty({n, n}, Device::cuda());
  cuda::set_gemm_precision(mode == 0 ? cuda::GemmPrecision::fp32
                                     : mode == 1 ? cuda::GemmPrecision::tf32 : cuda::GemmPrecision::bf16);
  auto run = [&] {
    if (ours)
      our_gemm(a.data<float>(), b.data<float>(), c.data<float>(), n);
    else
      cublas_gemm(a.data<float>(), b.data<float>(), c.data<float>(), n, mode != 0);
  };
  const int iters = std::max(2, static_cast<int>(2e11 / (2.0 * n * n * n)));  // ~0.2 TFLOP per timing
  run();  // warm-up
  for (auto _ : state) state.SetIterationTime(cuda::bench::time_gpu(iters, run));
  const double flops = 2.0 * n * n * static_cast<double>(n);
  state.counters["TFLOPS"] = benchmark::Counter(flops * 1e-12, benchmark::Counter::kIsIterationInvariantRate);
  if (ours) {  // agreement with cuBLAS at the same precision setting
    cublas_gemm(a.data<float>(), b.data<float>(), ref.data<float>(), n, mode != 0);
    state.counters["max_rel_diff_vs_cublas"] = max_rel_diff(c, ref);
  }
  cuda::set_gemm_precision(cuda::GemmPrecision::fp32);
}

void sizes(benchmark::internal::Benchmark* b) {
  for (int n : {512, 1024, 2048, 4096, 8192}) b->Arg(n);
  b->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(3);
}

}  // namespace

BENCHMARK_CAPTURE(BM_gemm, ours_fp32, true, 0)->Apply(sizes);
BENCHMARK_CAPTURE(BM_gemm, cublas_fp32, false, 0)->Apply(sizes);
BENCHMARK_CAPTURE(BM_gemm, ours_tf32, true, 1)->Apply(sizes);
BENCHMARK_CAPTURE(BM_gemm, cublas_tf32, false, 1)->Apply(sizes);
BENCHMARK_CAPTURE(BM_gemm, ours_bf16, true, 2)->Apply(sizes);

int main(int argc, char** argv) { return recsys::cuda::bench::run_main(argc, argv); }
