#pragma once
// Scaled dot-product attention over the F32 KV cache: causal, grouped-query heads, optional
// sliding window and per-head attention sinks (ggml_soft_max_ext semantics, flash attention off).
#include <cstdint>
#include <span>

#include "engine/tensor/thread_pool.h"

namespace moescope {

struct AttentionParams {
  int64_t n_head = 0;
  int64_t n_head_kv = 0;  // query head h reads KV head h / (n_head / n_head_kv)
  int64_t head_dim_k = 0;
  int64_t head_dim_v = 0;
  float kq_scale = 1.0f;
  int64_t n_swa = 0;             // > 0: a query at p1 sees keys p0 with p1 - p0 < n_swa
  const float* sinks = nullptr;  // [n_head] logits that only absorb probability mass
};

// The cache: position p's keys start at k + p * k_stride, KV head h at + h * head_dim_k (values
// likewise). V may point into K's rows (MLA).
struct KvView {
  const float* k = nullptr;
  int64_t k_stride = 0;
  const float* v = nullptr;
  int64_t v_stride = 0;
};

// For the n_tokens queries q[t] (row stride q_stride, head h at h * head_dim_k) at positions
// first_pos + t: out[t] (row stride out_stride, head h at h * head_dim_v) = softmax(q·K * scale)·V
// over the cached positions the query may see. Parallel over (token, head).
void attention(const AttentionParams& p, const float* q, int64_t q_stride, int64_t n_tokens,
               int64_t first_pos, const KvView& kv, float* out, int64_t out_stride,
               ThreadPool& pool);

// One sequence's queries, cache and output for attention_batch.
struct AttentionSeq {
  const float* q = nullptr;
  int64_t n_tokens = 0;
  int64_t first_pos = 0;
  KvView kv;
  float* out = nullptr;
};

// attention() for several sequences in one parallel loop over (sequence, head, query block);
// every sequence gets exactly what attention() gives it alone.
void attention_batch(const AttentionParams& p, std::span<const AttentionSeq> seqs, int64_t q_stride,
                     int64_t out_stride, ThreadPool& pool);

}  // namespace moescope
