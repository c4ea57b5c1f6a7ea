// recsys/cpu/gemm_driver.hpp — the SGEMM driver shared by every SIMD level: blocking, packing choices, OpenMP over C tiles.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <new>

#include "recsys/core/parallel.hpp"
#include "recsys/cpu/gemm_args.hpp"
#include "recsys/cpu/gemm_tile.hpp"

namespace recsys::cpu {

/// Block sizes and thresholds of the SGEMM driver. Tuned on Zen 5 (48 KiB L1d, 1 MiB L2 per core);
/// bench/gemm_bench.cpp measures them.
struct SgemmTuning {
  /// Longest K block. Every K block is one more pass over C, which dominates for large k; a B
  /// strip (kc × nr = 128 KiB at most) still streams from L2 fast enough for the kernel.
  static constexpr std::int64_t kMaxKc = 1024;
  /// Rows of A per packed block (a multiple of every kernel's mr: 12, 6 and 4): kMc × kc stays in L2.
  static constexpr std::int64_t kMc = 120;
  /// Columns of B per packed panel (kc × kNc floats, shared through L3).
  static constexpr std::int64_t kNc = 3072;
  /// A C region with at most this many rows reads B in place: B is swept too few times to repay packing.
  static constexpr std::int64_t kDirectBMaxRows = 96;
  /// A C region with at most this many columns reads A in place: packing A costs a pass over it
  /// that pays back only over many column strips.
  static constexpr std::int64_t kDirectAMaxCols = 256;
  /// Multiply-adds below which a GEMM runs on one thread: waking a second thread costs a few
  /// microseconds, and 32×128×128 (2^19) measured no faster on two.
  static constexpr std::int64_t kMinParallelMacs = 1 << 20;
};

namespace gemm_detail {

/// K is cut into blocks that depend on k alone. Each C element sums its products block by block in
/// the same order whatever the thread count or tiling: bitwise reproducibility rests on this.
inline std::int64_t k_block(std::int64_t k) {
  const std::int64_t blocks = (k + SgemmTuning::kMaxKc - 1) / SgemmTuning::kMaxKc;
  return (k + blocks - 1) / blocks;
}

/// 64-byte-aligned scratch that grows and is kept, so packing allocates (and faults in pages) only
/// on a thread's first call of a new size, never in the steady state.
class ScratchBuffer {
 public:
  ScratchBuffer() = default;
  ScratchBuffer(const ScratchBuffer&) = delete;
  ScratchBuffer& operator=(const ScratchBuffer&) = delete;
  ~ScratchBuffer() { release(); }

  float* get(std::size_t count) {
    if (count > capacity_) {
      release();
      data_ = static_cast<float*>(::operator new(count * sizeof(float), std::align_val_t{64}));
      capacity_ = count;
    }
    return data_;
  }

 private:
  void release() {
    if (data_ != nullptr) ::operator delete(data_, std::align_val_t{64});
    data_ = nullptr;
    capacity_ = 0;
  }
  float* data_ = nullptr;
  std::size_t capacity_ = 0;
};

/// Each thread's packing buffers; `shared_b` holds a B that a whole batch shares, packed once.
struct SgemmScratch {
  ScratchBuffer a, b, shared_b;
};

inline SgemmScratch& thread_scratch() {
  thread_local SgemmScratch scratch;
  return scratch;
}

inline std::int64_t round_up(std::int64_t x, std::int64_t to) { return (x + to - 1) / to * to; }

/// Threads that work on one GEMM together, each on its own band of rows, sharing the packed B
/// panel: each packs some of its strips, then all read all of it.
struct SgemmTeam {
  float* b_panel = nullptr;  // kc × round_up(min(kNc, n), nr) floats, from the calling thread
};

/// Packs op(B)[pc .. pc + kc) × [jc .. jc + nc) into `panel`, each thread of the team a contiguous
/// run of strips; returns when the whole panel is ready. Every thread of the team must call it.
inline void sgemm_pack_b_shared(const SgemmKernels& ks, const GemmArgs<float>& p, const float* B, std::int64_t pc,
                                std::int64_t kc, std::int64_t jc, std::int64_t nc, float* panel) {
#if defined(_OPENMP)
  const std::int64_t nr = ks.nr, strips = (nc + nr - 1) / nr;
  const std::int64_t tid = omp_get_thread_num(), size = omp_get_num_threads();
  const std::int64_t s0 = strips * tid / size, s1 = strips * (tid + 1) / size;
  if (s0 < s1) ks.pack_b(p, B, pc, kc, jc + s0 * nr, std::min(nc, s1 * nr) - s0 * nr, panel + s0 * kc * nr);
#pragma omp barrier
#else
  ks.pack_b(p, B, pc, kc, jc, nc, panel);
#endif
}

/// All of op(B) packed, for a batch that shares one B: the panel of columns [J, J + kNc) and K block
/// [pc, pc + kc) starts at J·k + pc·round_up(nc_J, nr), laid out as pack_b lays out a panel.
struct SgemmPackedB {
  float* data = nullptr;
  std::int64_t n = 0, k = 0;

  /// The packed strip of kc rows starting at column j (on the nr grid) and row pc of op(B).
  float* strip(std::int64_t j, std::int64_t pc, std::int64_t kc, std::int64_t nr) const {
    const std::int64_t panel = j / SgemmTuning::kNc * SgemmTuning::kNc;
    const std::int64_t width = round_up(std::min(SgemmTuning::kNc, n - panel), nr);
    return data + panel * k + pc * width + (j - panel) * kc;
  }
};

/// Packs all of op(B) once (the calling thread's shared_b buffer) for a batch with stride_b == 0,
/// so its GEMMs do not each pack the same B again.
inline SgemmPackedB sgemm_pack_shared_b(const SgemmKernels& ks, const GemmArgs<float>& p) {
  const std::int64_t nr = ks.nr, kc_max = k_block(p.k);
  float* out = thread_scratch().shared_b.get(static_cast<std::size_t>(p.k * round_up(p.n, nr)));
  const SgemmPackedB packed{out, p.n, p.k};
  for (std::int64_t jc = 0; jc < p.n; jc += SgemmTuning::kNc)
    for (std::int64_t pc = 0; pc < p.k; pc += kc_max) {
      const std::int64_t kc = std::min(kc_max, p.k - pc);
      ks.pack_b(p, p.b, pc, kc, jc, std::min(SgemmTuning::kNc, p.n - jc), packed.strip(jc, pc, kc, nr));
    }
  return packed;
}

/// C = alpha · op(A) · op(B) + beta · C on the region rows [r0, r1) × columns [c0, c1) of one GEMM.
/// r0 and c0 sit on the mr / nr grid, so tiles are the same however C is split. With a team, every
/// thread of it calls this with the same columns and its own rows. With `packed`, B is read from
/// there and never packed here. Where B comes from changes no arithmetic, only memory traffic.
inline void sgemm_region(const SgemmKernels& ks, const GemmArgs<float>& p, const float* A, const float* B, float* C,
                         std::int64_t r0, std::int64_t r1, std::int64_t c0, std::int64_t c1,
                         const SgemmTeam* team = nullptr, const SgemmPackedB* packed = nullptr) {
  const std::int64_t mr = ks.mr, nr = ks.nr, kc_max = k_block(p.k);
  const std::int64_t rows = r1 - r0, cols = c1 - c0;
  const bool pack_b = packed == nullptr && (team != nullptr || p.trans_b || rows > SgemmTuning::kDirectBMaxRows);
  // A read in place streams 12 rows (or k-rows) at stride lda; a large power-of-two lda maps them to
  // the same cache sets, so only regions with too few column strips to repay packing skip it.
  const bool pack_a = cols > SgemmTuning::kDirectAMaxCols || (!p.trans_a && ks.rowmajor[1] == nullptr);
  const std::int64_t nc_max = std::min(SgemmTuning::kNc, cols);
  SgemmScratch& scratch = thread_scratch();
  // Direct B still packs the ragged last strip, so every kernel may read nr full columns.
  float* b_buf = team != nullptr ? team->b_panel
                 : packed != nullptr ? nullptr
                                     : scratch.b.get(static_cast<std::size_t>(kc_max * (pack_b ? round_up(nc_max, nr) : nr)));
  float* a_buf = pack_a ? scratch.a.get(static_cast<std::size_t>(kc_max * round_up(std::min(SgemmTuning::kMc, rows), mr)))
                        : nullptr;
  SgemmTile t;
  t.ldc = p.ldc;
  t.alpha = p.alpha;
  for (std::int64_t jc = c0; jc < c1; jc += SgemmTuning::kNc) {
    const std::int64_t nc = std::min(SgemmTuning::kNc, c1 - jc);
    const std::int64_t in_place = pack_b || packed != nullptr ? 0 : nc / nr * nr;  // columns of B read in place
    for (std::int64_t pc = 0; pc < p.k; pc += kc_max) {
      const std::int64_t kc = std::min(kc_max, p.k - pc);
      t.kc = kc;
      t.read_c = pc > 0 || p.beta != 0.0f;  // later K blocks accumulate onto the earlier ones
      t.beta = pc > 0 ? 1.0f : p.beta;
      if (team != nullptr)
        sgemm_pack_b_shared(ks, p, B, pc, kc, jc, nc, b_buf);
      else if (packed == nullptr && in_place < nc)
        ks.pack_b(p, B, pc, kc, jc + in_place, nc - in_place, b_buf);
      for (std::int64_t ic = r0; ic < r1; ic += SgemmTuning::kMc) {
        const std::int64_t mc = std::min(SgemmTuning::kMc, r1 - ic);
        if (pack_a) ks.pack_a(p, A, ic, mc, pc, kc, a_buf);
        for (std::int64_t jr = 0; jr < nc; jr += nr) {
          t.cols = static_cast<int>(std::min(nr, nc - jr));
          if (packed != nullptr) {
            t.b = packed->strip(jc + jr, pc, kc, nr);
            t.b_ld = nr;
          } else if (jr < in_place) {
            t.b = B + pc * p.ldb + jc + jr;
            t.b_ld = p.ldb;
          } else {
            t.b = b_buf + (jr - in_place) * kc;  // strip (jr - in_place) / nr of the packed panel
            t.b_ld = nr;
          }
          for (std::int64_t ir = 0; ir < mc; ir += mr) {
            const int r = static_cast<int>(std::min(mr, mc - ir));
            SgemmTileFn fn;
            if (pack_a) {
              t.a = a_buf + ir * kc;
              t.a_ld = mr;
              fn = ks.kmajor[r];
            } else if (p.trans_a) {
              t.a = A + pc * p.lda + ic + ir;
              t.a_ld = p.lda;
              fn = ks.kmajor[r];
            } else {
              t.a = A + (ic + ir) * p.lda + pc;
              t.a_ld = p.lda;
              fn = ks.rowmajor[r];
            }
            t.c = C + (ic + ir) * p.ldc + jc + jr;
            fn(t);
          }
        }
      }
      if (team != nullptr) {
#pragma omp barrier
      }  // nobody repacks the panel while a teammate still reads it
    }
  }
}

/// C = beta · C for k == 0 (and C = 0 when beta == 0, without reading C).
inline void sgemm_scale_c(const GemmArgs<float>& p) {
  for (std::int64_t bi = 0; bi < p.batch; ++bi)
    for (std::int64_t i = 0; i < p.m; ++i) {
      float* c = p.c + bi * p.stride_c + i * p.ldc;
      for (std::int64_t j = 0; j < p.n; ++j) c[j] = p.beta == 0.0f ? 0.0f : p.beta * c[j];
    }
}

/// How a batched GEMM is shared out over threads.
struct SgemmSplit {
  int threads = 1;
  bool bands = false;    // false: whole GEMMs of the batch per thread; true: every GEMM cut into one band per thread
  bool by_rows = true;   // bands are row bands (else column bands)
  bool team = false;     // row bands share one packed B panel
};

/// Balance of splitting `strips` tiles over `parts`: mean work over the largest part's.
inline double split_balance(std::int64_t strips, std::int64_t parts) {
  const std::int64_t largest = (strips + parts - 1) / parts;
  return static_cast<double>(strips) / static_cast<double>(parts * largest);
}

inline SgemmSplit plan_split(const SgemmKernels& ks, const GemmArgs<float>& p) {
  SgemmSplit s;
  const std::int64_t macs = p.batch * p.m * p.n * p.k;
  s.threads = macs < SgemmTuning::kMinParallelMacs ? 1 : num_threads();
  if (s.threads == 1 || p.batch % s.threads == 0) return s;  // whole GEMMs share out evenly
  // Cut each GEMM into `threads` bands, along whichever dimension splits more evenly; on a tie,
  // rows when m >= n (column bands would each pack all of A, row bands share B's packing).
  const std::int64_t strips_m = (p.m + ks.mr - 1) / ks.mr, strips_n = (p.n + ks.nr - 1) / ks.nr;
  const double bal_m = split_balance(strips_m, s.threads), bal_n = split_balance(strips_n, s.threads);
  s.by_rows = bal_m > bal_n + 0.05 || (bal_m >= bal_n - 0.05 && p.m >= p.n);
  if ((s.by_rows ? strips_m : strips_n) < s.threads) {  // too small to cut: whole GEMMs, unevenly
    s.threads = static_cast<int>(std::min<std::int64_t>(s.threads, p.batch));
    return s;
  }
  s.bands = true;
  // Bands that read B in place (few rows) have nothing to share.
  s.team = s.by_rows && (p.trans_b || p.m / s.threads > SgemmTuning::kDirectBMaxRows);
  return s;
}

}  // namespace gemm_detail

/// SGEMM with the given kernel set (GemmArgs semantics). Results are bitwise identical for any
/// thread count: threads own disjoint regions of C and K is blocked by k alone.
inline void sgemm(const SgemmKernels& ks, const GemmArgs<float>& p) {
  using namespace gemm_detail;
  if (p.m <= 0 || p.n <= 0 || p.batch <= 0) return;
  if (p.k <= 0) {
    sgemm_scale_c(p);
    return;
  }
  const SgemmSplit split = plan_split(ks, p);
  // A batch that shares B (a convolution's weight) packs it once instead of once per GEMM.
  SgemmPackedB shared;
  if (p.batch > 1 && p.stride_b == 0) shared = sgemm_pack_shared_b(ks, p);
  const SgemmPackedB* packed = shared.data != nullptr ? &shared : nullptr;
  auto whole = [&](std::int64_t bi) {
    sgemm_region(ks, p, p.a + bi * p.stride_a, p.b + bi * p.stride_b, p.c + bi * p.stride_c, 0, p.m, 0, p.n, nullptr,
                 packed);
  };
  if (split.threads == 1) {
    for (std::int64_t bi = 0; bi < p.batch; ++bi) whole(bi);
    return;
  }
  if (!split.bands) {
#pragma omp parallel for num_threads(split.threads) schedule(static)
    for (std::int64_t bi = 0; bi < p.batch; ++bi) whole(bi);
    return;
  }
#if defined(_OPENMP)
  SgemmTeam team;
  const bool use_team = split.team && packed == nullptr;
  if (use_team) {
    const std::int64_t panel = k_block(p.k) * round_up(std::min(SgemmTuning::kNc, p.n), ks.nr);
    team.b_panel = thread_scratch().b.get(static_cast<std::size_t>(panel));
  }
  const std::int64_t step = split.by_rows ? ks.mr : ks.nr, extent = split.by_rows ? p.m : p.n;
  const std::int64_t strips = (extent + step - 1) / step;
#pragma omp parallel num_threads(split.threads)
  {
    const std::int64_t part = omp_get_thread_num(), parts = omp_get_num_threads();
    const std::int64_t lo = std::min(extent, strips * part / parts * step);
    const std::int64_t hi = std::min(extent, strips * (part + 1) / parts * step);
    for (std::int64_t bi = 0; bi < p.batch; ++bi) {
      const float* A = p.a + bi * p.stride_a;
      const float* B = p.b + bi * p.stride_b;
      float* C = p.c + bi * p.stride_c;
      if (split.by_rows)
        sgemm_region(ks, p, A, B, C, lo, hi, 0, p.n, use_team ? &team : nullptr, packed);
      else
        sgemm_region(ks, p, A, B, C, 0, p.m, lo, hi, nullptr, packed);
    }
  }
#endif
}

}  // namespace recsys::cpu
