// recsys/cuda/gemm.cuh — GEMM on the GPU: a shared-memory tiled, register-blocked FP32/FP64 kernel and a tensor-core TF32/BF16 kernel (FP32 accumulation).
#pragma once

#include <cuda_bf16.h>
#include <mma.h>

#include <cstdint>

#include "recsys/cpu/gemm.hpp"
#include "recsys/cuda/common.cuh"

namespace recsys::cuda {

// ---------------------------------------------------------------------------------------------
// Tile loading, shared by both kernels. A matrix operand is read in its storage layout (row-major
// rows × cols, leading dimension ld) one "run" of V consecutive elements at a time: a 128-bit load
// when V > 1 and the run is inside the matrix, element by element (zero outside) at the edges.
// ---------------------------------------------------------------------------------------------

template <class T, int V>
struct alignas(V > 1 ? 16 : alignof(T)) Run {
  T v[V];
};

template <class T, int V>
__device__ inline Run<T, V> load_run(const T* m, std::int64_t ld, std::int64_t rows, std::int64_t cols,
                                     std::int64_t r, std::int64_t c) {
  Run<T, V> out;
  if constexpr (V > 1) {
    if (r < rows && c + V <= cols) return *reinterpret_cast<const Run<T, V>*>(m + r * ld + c);
  }
#pragma unroll
  for (int j = 0; j < V; ++j) out.v[j] = (r < rows && c + j < cols) ? m[r * ld + c + j] : T(0);
  return out;
}

template <class S, class T>
__device__ inline S to_smem(T x) {
  if constexpr (std::is_same_v<S, __nv_bfloat16>) {
    return __float2bfloat16_rn(x);
  } else {
    return static_cast<S>(x);
  }
}

/// An R×C block of the stored matrix, staged in registers and then written to shared memory of
/// element type S with row length LD, either as stored (smem[r][c]) or transposed (smem[c][r]).
/// Loading into registers first lets the next tile's global reads overlap this tile's math.
template <class T, class S, int R, int C, int V, int Threads, bool Transpose>
struct TileLoader {
  static constexpr int kRunsPerRow = C / V;
  static constexpr int kPer = R * C / V / Threads;
  static_assert(C % V == 0 && (R * C / V) % Threads == 0 && kPer >= 1, "tile does not split evenly over threads");
  Run<T, V> runs[kPer];

  __device__ void load(const T* m, std::int64_t ld, std::int64_t rows, std::int64_t cols, std::int64_t r0,
                       std::int64_t c0) {
#pragma unroll
    for (int l = 0; l < kPer; ++l) {
      const int f = static_cast<int>(threadIdx.x) + l * Threads;
      runs[l] = load_run<T, V>(m, ld, rows, cols, r0 + f / kRunsPerRow, c0 + (f % kRunsPerRow) * V);
    }
  }
  template <int LD>
  __device__ void store(S* smem) const {
#pragma unroll
    for (int l = 0; l < kPer; ++l) {
      const int f = static_cast<int>(threadIdx.x) + l * Threads;
      const int r = f / kRunsPerRow, c = (f % kRunsPerRow) * V;
#pragma unroll
      for (int j = 0; j < V; ++j) {
        if constexpr (Transpose)
          smem[(c + j) * LD + r] = to_smem<S>(runs[l].v[j]);
        else
          smem[r * LD + c + j] = to_smem<S>(runs[l].v[j]);
      }
    }
  }
};

/// Storage shape of op(A) (m×k) and op(B) (k×n): transposed operands are stored the other way round.
struct OperandDims {
  std::int64_t rows, cols;
};
template <bool Trans>
__device__ inline OperandDims stored_dims(std::int64_t r, std::int64_t c) {
  return Trans ? OperandDims{c, r} : OperandDims{r, c};
}

/// Four consecutive values from shared memory (16-byte aligned): one or two 128-bit loads.
template <class T>
__device__ inline void load4(const T* p, T* out) {
  if constexpr (sizeof(T) == 4) {
    const Pack<T> v = *reinterpret_cast<const Pack<T>*>(p);
    for (int q = 0; q < 4; ++q) out[q] = v.v[q];
  } else {
    const Pack<T> v0 = reinterpret_cast<const Pack<T>*>(p)[0], v1 = reinterpret_cast<const Pack<T>*>(p)[1];
    out[0] = v0.v[0];
    out[1] = v0.v[1];
    out[2] = v1.v[0];
    out[3] = v1.v[1];
  }
}

// ---------------------------------------------------------------------------------------------
// SIMT kernel. Block tile BM×BN, K step BK, each thread owns TM×TN outputs as (TM/4)×(TN/4)
// groups of 4×4 spread BM/(TM/4) rows apart, so a warp's shared-memory reads are 128-bit and
// conflict-free. Shared memory is double-buffered: one barrier per K step. Every output is
// accumulated in plain k order with one FMA chain, so the result does not depend on the tile
// configuration (and any configuration gives the same bits).
// ---------------------------------------------------------------------------------------------

template <class T, int BM, int BN, int BK, int TM, int TN, bool TA, bool TB, bool Vec>
__global__ void __launch_bounds__((BM / TM) * (BN / TN))
    gemm_simt_kernel(GemmArgs<T> p) {
  constexpr int kThreadsN = BN / TN, kThreads = (BM / TM) * kThreadsN;
  constexpr int RM = TM / 4, RN = TN / 4;            // 4×4 groups per thread
  constexpr int kGapM = BM / RM, kGapN = BN / RN;    // distance between a thread's groups
  constexpr int V = Vec ? Pack<T>::kSize : 1;
  constexpr int LDA = BM + 4, LDB = BN + 4;          // padding breaks bank conflicts of transposed stores
  // A is kept k-major (As[k][m]) so a thread's 4 rows are one 128-bit read; B likewise Bs[k][n].
  __shared__ __align__(16) T As[2][BK * LDA];
  __shared__ __align__(16) T Bs[2][BK * LDB];
  using LoadA = TileLoader<T, T, TA ? BK : BM, TA ? BM : BK, V, kThreads, !TA>;
  using LoadB = TileLoader<T, T, TB ? BN : BK, TB ? BK : BN, V, kThreads, TB>;

  const int tx = static_cast<int>(threadIdx.x) % kThreadsN, ty = static_cast<int>(threadIdx.x) / kThreadsN;
  const OperandDims da = stored_dims<TA>(p.m, p.k), db = stored_dims<TB>(p.k, p.n);
  const std::int64_t tiles_m = (p.m + BM - 1) / BM, k_tiles = (p.k + BK - 1) / BK;
  const std::int64_t n0 = static_cast<std::int64_t>(blockIdx.x) * BN;

  for (std::int64_t batch = blockIdx.z; batch < p.batch; batch += gridDim.z) {
    const T* A = p.a + batch * p.stride_a;
    const T* B = p.b + batch * p.stride_b;
    T* C = p.c + batch * p.stride_c;
    for (std::int64_t tile_m = blockIdx.y; tile_m < tiles_m; tile_m += gridDim.y) {
      const std::int64_t m0 = tile_m * BM;
      T acc[TM][TN];
#pragma unroll
      for (int i = 0; i < TM; ++i)
#pragma unroll
        for (int j = 0; j < TN; ++j) acc[i][j] = T(0);

      LoadA la;
      LoadB lb;
      auto fetch = [&](std::int64_t k0) {
        if constexpr (TA) la.load(A, p.lda, da.rows, da.cols, k0, m0); else la.load(A, p.lda, da.rows, da.cols, m0, k0);
        if constexpr (TB) lb.load(B, p.ldb, db.rows, db.cols, n0, k0); else lb.load(B, p.ldb, db.rows, db.cols, k0, n0);
      };
      if (k_tiles > 0) {
        fetch(0);
        la.template store<LDA>(As[0]);
        lb.template store<LDB>(Bs[0]);
      }
      __syncthreads();
      for (std::int64_t kt = 0; kt < k_tiles; ++kt) {
        const int cur = static_cast<int>(kt & 1);
        const bool more = kt + 1 < k_tiles;
        if (more) fetch((kt + 1) * BK);  // global reads in flight while we compute
#pragma unroll
        for (int kk = 0; kk < BK; ++kk) {
          T a[TM], b[TN];
#pragma unroll
          for (int g = 0; g < RM; ++g) load4(&As[cur][kk * LDA + g * kGapM + ty * 4], a + g * 4);
#pragma unroll
          for (int g = 0; g < RN; ++g) load4(&Bs[cur][kk * LDB + g * kGapN + tx * 4], b + g * 4);
#pragma unroll
          for (int i = 0; i < TM; ++i)
#pragma unroll
            for (int j = 0; j < TN; ++j) acc[i][j] = fma(a[i], b[j], acc[i][j]);
        }
        if (more) {
          la.template store<LDA>(As[cur ^ 1]);
          lb.template store<LDB>(Bs[cur ^ 1]);
        }
        __syncthreads();
      }

#pragma unroll
      for (int i = 0; i < TM; ++i) {
        const std::int64_t row = m0 + (i / 4) * kGapM + ty * 4 + (i % 4);
        if (row >= p.m) continue;
#pragma unroll
        for (int j = 0; j < TN; ++j) {
          const std::int64_t col = n0 + (j / 4) * kGapN + tx * 4 + (j % 4);
          if (col >= p.n) continue;
          T* c = C + row * p.ldc + col;
          *c = p.beta == T(0) ? p.alpha * acc[i][j] : p.alpha * acc[i][j] + p.beta * *c;  // beta 0 never reads C
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Tensor-core kernel (float only): 128×128 block tile, K step 32, eight warps of 64×32 each, using
// WMMA fragments: TF32 m16n16k8 or BF16 m16n16k16, accumulating in FP32. Inputs are rounded to
// TF32 / BF16 once, when staged in shared memory.
// ---------------------------------------------------------------------------------------------

template <GemmPrecision P>
struct TensorCoreTraits;
template <>
struct TensorCoreTraits<GemmPrecision::tf32> {
  using Smem = float;
  using FragElem = nvcuda::wmma::precision::tf32;
  static constexpr int kK = 8, kPad = 4;
};
template <>
struct TensorCoreTraits<GemmPrecision::bf16> {
  using Smem = __nv_bfloat16;
  using FragElem = __nv_bfloat16;
  static constexpr int kK = 16, kPad = 8;
};

template <GemmPrecision P, bool TA, bool TB, bool Vec>
__global__ void __launch_bounds__(256) gemm_tensor_core_kernel(GemmArgs<float> p) {
  namespace wmma = nvcuda::wmma;
  using Tr = TensorCoreTraits<P>;
  using S = typename Tr::Smem;
  constexpr int BM = 128, BN = 128, BK = 32, kThreads = 256, KF = Tr::kK;
  constexpr int LDA = BK + Tr::kPad, LDB = BN + Tr::kPad;
  constexpr int V = Vec ? 4 : 1;
  // A is kept m-major (As[m][k]) and B k-major (Bs[k][n]): the row-major fragments read them directly.
  __shared__ __align__(128) S As[BM * LDA];
  __shared__ __align__(128) S Bs[BK * LDB];
  __shared__ __align__(128) float Cs[8][16 * 16];
  using LoadA = TileLoader<float, S, TA ? BK : BM, TA ? BM : BK, V, kThreads, TA>;
  using LoadB = TileLoader<float, S, TB ? BN : BK, TB ? BK : BN, V, kThreads, TB>;

  const int warp = static_cast<int>(threadIdx.x) / 32, lane = static_cast<int>(threadIdx.x) % 32;
  const int warp_m = warp / 4, warp_n = warp % 4;  // 2 × 4 warps, each 64 × 32
  const OperandDims da = stored_dims<TA>(p.m, p.k), db = stored_dims<TB>(p.k, p.n);
  const std::int64_t tiles_m = (p.m + BM - 1) / BM, k_tiles = (p.k + BK - 1) / BK;
  const std::int64_t n0 = static_cast<std::int64_t>(blockIdx.x) * BN;

  for (std::int64_t batch = blockIdx.z; batch < p.batch; batch += gridDim.z) {
    const float* A = p.a + batch * p.stride_a;
    const float* B = p.b + batch * p.stride_b;
    float* C = p.c + batch * p.stride_c;
    for (std::int64_t tile_m = blockIdx.y; tile_m < tiles_m; tile_m += gridDim.y) {
      const std::int64_t m0 = tile_m * BM;
      wmma::fragment<wmma::accumulator, 16, 16, KF, float> acc[4][2];
#pragma unroll
      for (int i = 0; i < 4; ++i)
#pragma unroll
        for (int j = 0; j < 2; ++j) wmma::fill_fragment(acc[i][j], 0.0f);
      LoadA la;
      LoadB lb;
      auto fetch = [&](std::int64_t k0) {
        if constexpr (TA) la.load(A, p.lda, da.rows, da.cols, k0, m0); else la.load(A, p.lda, da.rows, da.cols, m0, k0);
        if constexpr (TB) lb.load(B, p.ldb, db.rows, db.cols, n0, k0); else lb.load(B, p.ldb, db.rows, db.cols, k0, n0);
      };
      if (k_tiles > 0) fetch(0);
      for (std::int64_t kt = 0; kt < k_tiles; ++kt) {
        la.template store<LDA>(As);
        lb.template store<LDB>(Bs);
        __syncthreads();
        if (kt + 1 < k_tiles) fetch((kt + 1) * BK);
#pragma unroll
        for (int kk = 0; kk < BK; kk += KF) {
          wmma::fragment<wmma::matrix_a, 16, 16, KF, typename Tr::FragElem, wmma::row_major> fa[4];
          wmma::fragment<wmma::matrix_b, 16, 16, KF, typename Tr::FragElem, wmma::row_major> fb[2];
#pragma unroll
          for (int i = 0; i < 4; ++i) wmma::load_matrix_sync(fa[i], As + (warp_m * 64 + i * 16) * LDA + kk, LDA);
#pragma unroll
          for (int j = 0; j < 2; ++j) wmma::load_matrix_sync(fb[j], Bs + kk * LDB + warp_n * 32 + j * 16, LDB);
#pragma unroll
          for (int i = 0; i < 4; ++i)
#pragma unroll
            for (int j = 0; j < 2; ++j) wmma::mma_sync(acc[i][j], fa[i], fb[j], acc[i][j]);
        }
        __syncthreads();
      }
      // Each warp stages one 16×16 result at a time in its own patch, then writes it with bounds checks.
#pragma unroll
      for (int i = 0; i < 4; ++i) {
#pragma unroll
        for (int j = 0; j < 2; ++j) {
          wmma::store_matrix_sync(Cs[warp], acc[i][j], 16, wmma::mem_row_major);
          __syncwarp();
          for (int e = lane; e < 256; e += 32) {
            const std::int64_t row = m0 + warp_m * 64 + i * 16 + e / 16, col = n0 + warp_n * 32 + j * 16 + e % 16;
            if (row < p.m && col < p.n) {
              float* c = C + row * p.ldc + col;
              *c = p.beta == 0.0f ? p.alpha * Cs[warp][e] : p.alpha * Cs[warp][e] + p.beta * *c;
            }
          }
          __syncwarp();
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Launchers.
// ---------------------------------------------------------------------------------------------

/// True when 128-bit loads of A and B are legal at every run start (aligned bases, ld and batch strides).
template <class T>
bool gemm_vectorizable(const GemmArgs<T>& p) {
  constexpr std::int64_t v = Pack<T>::kSize;
  return aligned16({p.a, p.b}) && p.lda % v == 0 && p.ldb % v == 0 && p.stride_a % v == 0 && p.stride_b % v == 0;
}

inline dim3 gemm_grid(std::int64_t m, std::int64_t n, std::int64_t batch, int bm, int bn) {
  return dim3(static_cast<unsigned>((n + bn - 1) / bn), static_cast<unsigned>(std::min<std::int64_t>((m + bm - 1) / bm, 65535)),
              static_cast<unsigned>(std::min<std::int64_t>(batch, 65535)));
}

template <class T, int BM, int BN, int BK, int TM, int TN>
void launch_gemm_simt(const GemmArgs<T>& p, bool vec, cudaStream_t s) {
  const dim3 grid = gemm_grid(p.m, p.n, p.batch, BM, BN), block((BM / TM) * (BN / TN));
  auto go = [&]<bool TA, bool TB>() {
    if (vec)
      gemm_simt_kernel<T, BM, BN, BK, TM, TN, TA, TB, true><<<grid, block, 0, s>>>(p);
    else
      gemm_simt_kernel<T, BM, BN, BK, TM, TN, TA, TB, false><<<grid, block, 0, s>>>(p);
  };
  if (!p.trans_a && !p.trans_b) go.template operator()<false, false>();
  else if (!p.trans_a && p.trans_b) go.template operator()<false, true>();
  else if (p.trans_a && !p.trans_b) go.template operator()<true, false>();
  else go.template operator()<true, true>();
}

template <GemmPrecision P>
void launch_gemm_tensor_core(const GemmArgs<float>& p, bool vec, cudaStream_t s) {
  const dim3 grid = gemm_grid(p.m, p.n, p.batch, 128, 128);
  auto go = [&]<bool TA, bool TB>() {
    if (vec)
      gemm_tensor_core_kernel<P, TA, TB, true><<<grid, 256, 0, s>>>(p);
    else
      gemm_tensor_core_kernel<P, TA, TB, false><<<grid, 256, 0, s>>>(p);
  };
  if (!p.trans_a && !p.trans_b) go.template operator()<false, false>();
  else if (!p.trans_a && p.trans_b) go.template operator()<false, true>();
  else if (p.trans_a && !p.trans_b) go.template operator()<true, false>();
  else go.template operator()<true, true>();
}

/// The gemm_slot CUDA implementation. Picks the largest tile that still gives every SM a block:
/// 128×128 for big products, 64×64 and 32×32 for the skinny ones (the LSTM's per-step GEMM).
template <class T>
void gemm(const GemmArgs<T>& p) {
  if (p.m <= 0 || p.n <= 0 || p.batch <= 0) return;
  const cudaStream_t s = current_stream();
  const bool vec = gemm_vectorizable(p);
  const std::int64_t sms = multiprocessor_count();
  auto blocks = [&](int bm, int bn) { return (p.m + bm - 1) / bm * ((p.n + bn - 1) / bn) * p.batch; };
  if constexpr (std::is_same_v<T, float>) {
    const GemmPrecision prec = gemm_precision();
    if (prec == GemmPrecision::tf32) {
      launch_gemm_tensor_core<GemmPrecision::tf32>(p, vec, s);
    } else if (prec == GemmPrecision::bf16) {
      launch_gemm_tensor_core<GemmPrecision::bf16>(p, vec, s);
    } else if (blocks(128, 128) >= sms) {
      launch_gemm_simt<T, 128, 128, 8, 8, 8>(p, vec, s);
    } else if (blocks(64, 64) >= sms) {
      launch_gemm_simt<T, 64, 64, 16, 4, 4>(p, vec, s);
    } else {
      launch_gemm_simt<T, 32, 32, 16, 4, 4>(p, vec, s);
    }
  } else {  // double: correctness and gradchecks, not speed
    if (blocks(64, 64) >= sms)
      launch_gemm_simt<T, 64, 64, 16, 4, 4>(p, vec, s);
    else
      launch_gemm_simt<T, 32, 32, 16, 4, 4>(p, vec, s);
  }
  check_launch("gemm");
}

}  // namespace recsys::cuda
