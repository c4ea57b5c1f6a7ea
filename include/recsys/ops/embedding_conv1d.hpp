// recsys/ops/embedding_conv1d.hpp — conv1d(embedding(E, ids), W, b) computed per vocabulary row (E · W_k, then a gather-add), with its gradients.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>

#include "recsys/autograd/function.hpp"
#include "recsys/core/tensor.hpp"
#include "recsys/cpu/embedding_conv1d.hpp"
#include "recsys/cpu/embedding_conv1d_scatter.hpp"
#include "recsys/ops/checks.hpp"
#include "recsys/ops/conv1d.hpp"
#include "recsys/ops/embedding.hpp"
#include "recsys/ops/matmul.hpp"
#include "recsys/ops/maxpool1d.hpp"
#include "recsys/ops/unary.hpp"
#include "recsys/ops/reduce.hpp"

namespace recsys {

/// Which computation embedding_conv1d runs. `automatic` follows the process-wide switch and the cost
/// rule (embedding_conv1d_prefers_fused); `fused` forces the per-row form on the CPU (tests);
/// `composed` is exactly conv1d(embedding(E, ids, padding_idx), W, b, stride, padding).
enum class EmbeddingConvPath { automatic, fused, composed };

namespace detail {
inline std::atomic<bool>& fuse_embedding_conv_flag() {
  // Read once: RECSYS_FUSE_EMBEDDING_CONV=0 turns the fusion off for the whole process (benchmarks
  // report both); anything else, or unset, leaves it on.
  static std::atomic<bool> flag{[] {
    const char* env = std::getenv("RECSYS_FUSE_EMBEDDING_CONV");
    return env == nullptr || std::string_view(env) != "0";
  }()};
  return flag;
}
}  // namespace detail

/// Whether embedding_conv1d (automatic) and nn::Sequential (Embedding then Conv1D) may use the fused
/// form. Starts from RECSYS_FUSE_EMBEDDING_CONV (0: off; default on).
inline bool fuse_embedding_conv_enabled() { return detail::fuse_embedding_conv_flag().load(std::memory_order_relaxed); }
/// Turns the fusion on or off for the whole process (overrides RECSYS_FUSE_EMBEDDING_CONV).
inline void set_fuse_embedding_conv(bool on) { detail::fuse_embedding_conv_flag().store(on, std::memory_order_relaxed); }

/// The cost rule. Both forms do K·F multiply-adds per (row, channel): the composition once per
/// output position (positions = batch·t_out rows of C channels), the fused form once per vocabulary
/// row — plus, per position, K gathered row adds of F values (and the same scatter in backward),
/// which run at memory speed: each element added costs kEmbeddingConvGatherCost multiply-adds' time
/// (measured ≈ 10 on Zen 5 with AVX-512; 16 leaves a margin for slower memory). Forward and backward
/// scale alike, so one rule serves training and inference:
///   fused  iff  vocab·C + kEmbeddingConvGatherCost·positions < positions·C.
/// For the reference model (vocab 1000, C 128, t_out 98) that is batch ≥ 12; measured on one thread, the
/// op's forward + backward runs 0.75× as fast fused as composed at batch 8, 1.3× at 12, 2.9× at 32, 12× at 256.
inline constexpr std::int64_t kEmbeddingConvGatherCost = 16;
inline bool embedding_conv1d_prefers_fused(std::int64_t vocab, std::int64_t channels, std::int64_t positions) {
  return vocab * channels + kEmbeddingConvGatherCost * positions < positions * channels;
}

/// Keeps embedding_conv1d's per-vocabulary-row table (E · W_k for every row and tap) between calls
/// that record no gradient — inference, serving, validation — so such a call pays only the gather.
/// The table is reused only while the embedding and conv weights hold exactly the bytes it was built
/// from: the cache keeps a copy of both and compares it on every call (for the reference model that
/// compare reads 0.7 MB, about a hundredth of the time the table's GEMM takes), so weights changed in
/// any way — an optimizer step, a load, a write through data() — are noticed without version counters.
/// Concurrent forwards share one immutable snapshot under a mutex. Copying a cache gives an empty one
/// (a copied model builds its own table).
class EmbeddingConvTableCache {
 public:
  /// Tables larger than this are not kept (the copy and the table would dwarf the model).
  static constexpr std::int64_t kMaxTableBytes = std::int64_t{256} << 20;

  struct Stats {
    std::uint64_t hits = 0;    // calls that reused the table
    std::uint64_t builds = 0;  // calls that built (and kept) a new one
  };

  EmbeddingConvTableCache() = default;
  EmbeddingConvTableCache(const EmbeddingConvTableCache&) {}
  EmbeddingConvTableCache& operator=(const EmbeddingConvTableCache& other) {
    if (this != &other) clear();
    return *this;
  }

  Stats stats() const {
    const std::lock_guard lock(mu_);
    return stats_;
  }
  /// Bytes held: the table and the two weight copies (0 when empty).
  std::int64_t bytes() const {
    const std::lock_guard lock(mu_);
    if (!entry_) return 0;
    return static_cast<std::int64_t>(entry_->e.nbytes() + entry_->w.nbytes() + entry_->table.nbytes());
  }
  void clear() {
    const std::lock_guard lock(mu_);
    entry_.reset();
  }

  /// The kept table when e and w (contiguous) equal the weights it was built from, else undefined.
  /// A stale entry is dropped on the spot: weights that changed do not change back, and releasing
  /// the old table and copies before the caller builds new ones lets the caching allocator hand the
  /// same blocks back, so evaluating after every training epoch allocates nothing new.
  Tensor find(const Tensor& e, const Tensor& w) {
    std::shared_ptr<const Entry> entry;
    {
      const std::lock_guard lock(mu_);
      entry = entry_;
    }
    if (!entry) return {};
    if (!same_bytes(entry->e, e) || !same_bytes(entry->w, w)) {
      const std::lock_guard lock(mu_);
      if (entry_ == entry) entry_.reset();
      return {};
    }
    const std::lock_guard lock(mu_);
    ++stats_.hits;
    return entry->table;
  }

  /// Keeps `table`, built from e and w, with copies of both to compare later calls against.
  void store(const Tensor& e, const Tensor& w, const Tensor& table) {
    auto entry = std::make_shared<const Entry>(Entry{e.clone(), w.clone(), table});
    const std::lock_guard lock(mu_);
    entry_ = std::move(entry);
    ++stats_.builds;
  }

 private:
  struct Entry {
    Tensor e, w, table;
  };
  static bool same_bytes(const Tensor& kept, const Tensor& now) {
    return kept.dtype() == now.dtype() && kept.shape() == now.shape() &&
           std::memcmp(kept.raw_data(), now.raw_data(), now.nbytes()) == 0;
  }

  mutable std::mutex mu_;
  std::shared_ptr<const Entry> entry_;
  Stats stats_;
};

namespace detail {
/// embedding_conv1d; with `pool`, a call that records no gradient and takes the fused form also
/// applies the ReLU and max pooling in the gather and sets `pooled` (embedding_conv1d_maxpool).
inline Tensor embedding_conv1d_impl(const Tensor& ids, const Tensor& embedding_weight, const Tensor& conv_weight,
                                    const Tensor& conv_bias, std::int64_t stride, std::string_view padding,
                                    std::int64_t padding_idx, EmbeddingConvPath path, EmbeddingConvTableCache* cache,
                                    const cpu::EmbeddingConv1dPool* pool, bool& pooled) {
  constexpr const char* op = "embedding_conv1d";
  detail::check_defined(op, "ids", ids);
  RECSYS_CHECK(!ids.is_floating_point(), op, ": ids must be int32 or int64, got ", ids.dtype());
  detail::check_dim(op, "ids", ids, 2, "(batch, time)");
  detail::check_floating(op, "embedding_weight", embedding_weight);
  detail::check_dim(op, "embedding_weight", embedding_weight, 2, "(vocab, dim)");
  detail::check_dim(op, "conv_weight", conv_weight, 3, "(kernel_size, in_channels, filters)");
  detail::check_same(op, {{"embedding_weight", &embedding_weight}, {"conv_weight", &conv_weight}, {"conv_bias", &conv_bias}});
  detail::check_same(op, {{"embedding_weight", &embedding_weight}, {"ids", &ids}}, /*same_dtype=*/false);
  const Tensor& E = embedding_weight;
  const Tensor& W = conv_weight;
  RECSYS_CHECK(W.size(0) > 0 && W.size(1) > 0 && W.size(2) > 0, op, ": conv_weight has shape ", W.shape(),
               "; kernel_size, in_channels and filters must all be positive");
  RECSYS_CHECK(E.size(1) == W.size(1), op, ": embedding_weight has shape ", E.shape(), " (dim ", E.size(1),
               ") but conv_weight has shape ", W.shape(), " (in_channels ", W.size(1), ")");
  if (conv_bias.defined()) {
    RECSYS_CHECK(conv_bias.dim() == 1 && conv_bias.size(0) == W.size(2), op, ": conv_bias has shape ",
                 conv_bias.shape(), ", expected [", W.size(2), "] (one value per filter)");
  }
  RECSYS_CHECK(stride >= 1, op, ": stride must be at least 1, got ", stride);
  RECSYS_CHECK(padding == "valid" || padding == "same", op, ": padding must be \"valid\" or \"same\", got \"",
               padding, "\"");
  const std::int64_t vocab = E.size(0), C = E.size(1), K = W.size(0), F = W.size(2);
  RECSYS_CHECK(padding_idx >= -1 && padding_idx < vocab, op, ": padding_idx ", padding_idx,
               " is outside the vocabulary of ", vocab, " rows (use -1 for none)");
  const std::int64_t batch = ids.size(0), t_in = ids.size(1);

  // conv1d's geometry (TensorFlow's "same" rule: the odd padding element goes on the right).
  cpu::EmbeddingConv1dShape g;
  g.batch = batch;
  g.t_in = t_in;
  g.kernel = K;
  g.filters = F;
  g.stride = stride;
  g.vocab = vocab;
  if (padding == "same") {
    g.t_out = (t_in + stride - 1) / stride;
    if (g.t_out > 0) g.pad_left = std::max<std::int64_t>((g.t_out - 1) * stride + K - t_in, 0) / 2;
  } else {
    RECSYS_CHECK(t_in >= K, op, ": ids have shape ", ids.shape(), ", whose length ", t_in,
                 " is shorter than kernel_size ", K, " (padding \"valid\"; use \"same\" to pad)");
    g.t_out = (t_in - K) / stride + 1;
  }

  const std::int64_t positions = batch * g.t_out;
  const bool record = autograd::should_record(E, W, conv_bias);
  const bool use_cache = cache != nullptr && !record &&
                         vocab * K * F * static_cast<std::int64_t>(E.itemsize()) <= EmbeddingConvTableCache::kMaxTableBytes;
  bool fused = E.device().is_cpu() && positions > 0;
  if (path == EmbeddingConvPath::automatic)
    fused = fused && fuse_embedding_conv_enabled() &&
            (use_cache || embedding_conv1d_prefers_fused(vocab, C, positions));
  else if (path == EmbeddingConvPath::composed)
    fused = false;
  if (!fused) return conv1d(embedding(E, ids, padding_idx), W, conv_bias, stride, padding);

  const TensorOptions opts{E.dtype(), E.device()};
  const Tensor idc = ids.contiguous(), e = E.contiguous(), w = W.contiguous();
  const Tensor bias = conv_bias.defined() ? conv_bias.contiguous() : Tensor();
  Tensor table = use_cache ? cache->find(e, w) : Tensor();
  const bool build_table = !table.defined();
  Tensor w_cat = build_table ? Tensor::empty({C, K * F}, opts) : Tensor();
  if (build_table) table = Tensor::empty({vocab, K, F}, opts);
  // Pooling in the gather, where maxpool1d would accept the input. Training needs windows that do not
  // overlap (each convolution step then gets at most one pooled gradient) and offsets that fit a byte.
  cpu::EmbeddingConv1dPool pl;
  pooled = pool != nullptr && g.t_out >= pool->size &&
           (!record || (pool->stride >= pool->size && pool->size < cpu::kNoWinner));
  if (pooled) {
    pl = *pool;
    pl.t_out = (g.t_out - pl.size) / pl.stride + 1;
  }
  Tensor out = Tensor::empty({batch, pooled ? pl.t_out : g.t_out, F}, opts);
  Tensor scratch = pooled ? Tensor::empty({num_threads(), F}, opts) : Tensor();
  // The winning window step of every pooled element, one byte each (in int32 storage: the allocator
  // hands out tensors, and reusing its blocks keeps the training step free of page faults).
  const std::int64_t pooled_numel = batch * pl.t_out * F;
  Tensor winners = pooled && record ? Tensor::empty({(pooled_numel + 3) / 4}, {DType::int32, E.device()}) : Tensor();
  auto* winner_bytes = winners.defined() ? reinterpret_cast<std::uint8_t*>(winners.data<std::int32_t>()) : nullptr;
  visit_integer(ids.dtype(), op, [&]<class Id>() {
    const std::int64_t bad = cpu::embedding_conv1d_first_bad_id(idc.data<Id>(), ids.numel(), vocab);
    if (bad >= 0) {
      RECSYS_FAIL(op, ": id ", idc.data<Id>()[bad], " at position ", detail::unravel_index(bad, ids.shape()),
                  " of ids with shape ", ids.shape(), " is out of range for a vocabulary of ", vocab,
                  " rows (valid ids are 0..", vocab - 1, ")");
    }
    visit_floating(E.dtype(), op, [&]<class T>() {
      if (build_table) {
        cpu::embedding_conv1d_permute_weight(w.data<T>(), K, C, F, w_cat.data<T>());
        GemmArgs<T> p;  // table (vocab × K·F) = E (vocab × C) · w_cat (C × K·F)
        p.m = vocab;
        p.n = K * F;
        p.k = C;
        p.a = e.data<T>();
        p.lda = C;
        p.b = w_cat.data<T>();
        p.ldb = K * F;
        p.c = table.data<T>();
        p.ldc = K * F;
        gemm_slot<T>(opts.device, p);
      }
      const T* bias_p = bias.defined() ? bias.data<T>() : nullptr;
      if (pooled)
        cpu::embedding_conv1d_gather_maxpool(g, pl, idc.data<Id>(), table.data<T>(), bias_p, out.data<T>(),
                                             scratch.data<T>(), winner_bytes);
      else
        cpu::embedding_conv1d_gather(g, idc.data<Id>(), table.data<T>(), bias_p, out.data<T>());
    });
  });

  if (use_cache && build_table) cache->store(e, w, table);
  if (!record) return out;
  const bool need_e = E.requires_grad(), need_w = W.requires_grad(),
             need_b = conv_bias.defined() && conv_bias.requires_grad();
  // w is saved only so an in-place change of the kernel before backward is reported, as conv1d does.
  const autograd::SavedTensor sids(idc), se(need_w ? e : Tensor()), sw(need_e ? w : Tensor()),
      swc(need_e ? w_cat : Tensor());
  autograd::record(op, {E, W, conv_bias}, {out}, [=](const autograd::TensorList& grads) -> autograd::TensorList {
    const Tensor gy = grads[0].contiguous();
    const Tensor& idv = sids.get(op);
    Tensor ge, gw, gb;
    if (pooled && need_b) gb = Tensor::empty({F}, opts);
    if (need_e || need_w || (pooled && need_b)) {
      Tensor g_table = need_e || need_w ? Tensor::empty({vocab, K, F}, opts) : Tensor();  // G_k: (vocab, K, F)
      visit_integer(idv.dtype(), op, [&]<class Id>() {
        visit_floating(gy.dtype(), op, [&]<class T>() {
          if (pooled)
            cpu::embedding_conv1d_scatter_pooled(g, pl, idv.data<Id>(), gy.data<T>(),
                                                 reinterpret_cast<const std::uint8_t*>(winners.data<std::int32_t>()),
                                                 g_table.defined() ? g_table.data<T>() : nullptr,
                                                 gb.defined() ? gb.data<T>() : nullptr);
          else
            cpu::embedding_conv1d_scatter(g, idv.data<Id>(), gy.data<T>(), g_table.data<T>());
          if (need_w) {  // dW_k (C × F) = Eᵀ · G_k, one GEMM per tap in one batched call
            gw = Tensor::empty({K, C, F}, opts);
            GemmArgs<T> p;
            p.trans_a = true;
            p.m = C;
            p.n = F;
            p.k = vocab;
            p.a = se.get(op).data<T>();
            p.lda = C;
            p.b = g_table.data<T>();
            p.ldb = K * F;
            p.stride_b = F;
            p.c = gw.data<T>();
            p.ldc = F;
            p.stride_c = C * F;
            p.batch = K;
            gemm_slot<T>(opts.device, p);
          }
          if (need_e) {  // dE (vocab × C) = G (vocab × K·F) · w_catᵀ: all taps in one GEMM
            sw.get(op);
            ge = Tensor::empty({vocab, C}, opts);
            GemmArgs<T> p;
            p.trans_b = true;
            p.m = vocab;
            p.n = C;
            p.k = K * F;
            p.a = g_table.data<T>();
            p.lda = K * F;
            p.b = swc.get(op).data<T>();
            p.ldb = K * F;
            p.c = ge.data<T>();
            p.ldc = C;
            gemm_slot<T>(opts.device, p);
            // The padding row's products still feed dW (its E row is part of every padded window),
            // but the row itself gets no gradient, as in the unfused Embedding.
            if (padding_idx >= 0) ge.select(0, padding_idx).zero_();
          }
        });
      });
    }
    if (need_b && !pooled) gb = sum(gy.reshape({-1, F}), 0);
    return {ge, gw, gb};
  });
  return out;
}
}  // namespace detail

/// conv1d(embedding(embedding_weight, ids, padding_idx), conv_weight, conv_bias, stride, padding) in one
/// op. ids: (batch, time) int32/int64; embedding_weight: (vocab, C); conv_weight: (kernel_size, C,
/// filters); conv_bias: (filters) or undefined → (batch, time_out, filters), padding "valid" or "same"
/// as in conv1d. The fused form computes P_k = E · W_k for every vocabulary row (one GEMM, independent
/// of the batch), then y[b, t] = bias + Σ_k P_k[ids[b, t·stride + k - pad]]; backward scatters dY into
/// G_k per row and takes dW_k = Eᵀ · G_k and dE = Σ_k G_k · W_kᵀ. Same maths as the composition, other
/// rounding. Row padding_idx is read like any other and never receives a gradient. CUDA tensors
/// always take the composition.
///
/// With a `cache`, a call that records no gradient keeps the table for the next such call and reuses
/// it while the two weights are unchanged (EmbeddingConvTableCache); the automatic path then always
/// takes the fused form, because a kept table makes it the cheaper one at any batch size.
inline Tensor embedding_conv1d(const Tensor& ids, const Tensor& embedding_weight, const Tensor& conv_weight,
                               const Tensor& conv_bias = {}, std::int64_t stride = 1,
                               std::string_view padding = "valid", std::int64_t padding_idx = -1,
                               EmbeddingConvPath path = EmbeddingConvPath::automatic,
                               EmbeddingConvTableCache* cache = nullptr) {
  bool pooled = false;
  return detail::embedding_conv1d_impl(ids, embedding_weight, conv_weight, conv_bias, stride, padding, padding_idx, path,
                                       cache, nullptr, pooled);
}

/// maxpool1d(relu(embedding_conv1d(...)), pool_size, pool_stride), or without the relu when `relu` is
/// false: an Embedding → Conv1D → MaxPool1D stack. A call that takes the fused form pools during the
/// gather, so the convolution output never reaches memory: without gradients always, and when
/// recording for windows that do not overlap (pool_stride >= pool_size, the Keras default), keeping
/// a byte per pooled element (which window step won) so that backward scatters the pooled gradient
/// straight into the table gradient. Output, dE and dW have the bits of the three ops; the bias
/// gradient too. Other calls run the three ops. One difference at the edge: where the ReLU passes no
/// gradient (z <= 0), a NaN or infinite pooled gradient gives 0 here, as PyTorch's ReLU does, while
/// the relu op's gy · 0 gives NaN.
inline Tensor embedding_conv1d_maxpool(const Tensor& ids, const Tensor& embedding_weight, const Tensor& conv_weight,
                                       const Tensor& conv_bias, std::int64_t stride, std::string_view padding,
                                       std::int64_t padding_idx, bool relu, std::int64_t pool_size,
                                       std::optional<std::int64_t> pool_stride = std::nullopt,
                                       EmbeddingConvPath path = EmbeddingConvPath::automatic,
                                       EmbeddingConvTableCache* cache = nullptr) {
  cpu::EmbeddingConv1dPool pool;
  pool.size = pool_size;
  pool.stride = pool_stride.value_or(pool_size);
  pool.relu = relu;
  bool pooled = false;
  // Invalid pooling arguments skip the fused pooling; maxpool1d below then reports them.
  const bool valid = pool.size >= 1 && pool.stride >= 1;
  Tensor y = detail::embedding_conv1d_impl(ids, embedding_weight, conv_weight, conv_bias, stride, padding, padding_idx,
                                           path, cache, valid ? &pool : nullptr, pooled);
  if (pooled) return y;
  return maxpool1d(relu ? recsys::relu(y) : y, pool_size, pool_stride);
}

}  // namespace recsys
