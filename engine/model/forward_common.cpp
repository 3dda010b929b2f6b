#include <cmath>
#include <cstring>
#include <vector>

#include "engine/model/attention.h"
#include "engine/model/forward.h"
#include "engine/model/norm.h"
#include "engine/model/rope.h"

namespace moescope {
namespace {

const float* data_or_null(const std::vector<float>& v) {
  return v.empty() ? nullptr : v.data();
}

// q[n][dq], k[n][dk], v[n][dv] from a[n][n_embd], from separate or fused projections.
void project_qkv(const LayerWeights& L, const float* a, int64_t n, float* q, float* k, float* v,
                 int64_t dq, int64_t dk, int64_t dv, const ForwardEnv& env) {
  if (!L.wqkv.present()) {
    linear(L.wq, a, n, q, env);
    linear(L.wk, a, n, k, env);
    linear(L.wv, a, n, v, env);
    return;
  }
  const int64_t width = dq + dk + dv;
  float* qkv = env.ws.get(kTmp0, n * width);  // [n][dq + dk + dv]
  linear(L.wqkv, a, n, qkv, env);
  for (int64_t t = 0; t < n; ++t) {
    const float* row = qkv + t * width;
    std::memcpy(q + t * dq, row, dq * sizeof(float));
    std::memcpy(k + t * dk, row + dq, dk * sizeof(float));
    std::memcpy(v + t * dv, row + dq + dk, dv * sizeof(float));
  }
}

}  // namespace

void add(const float* a, const float* b, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = a[i] + b[i];
}

void scale(float* x, int64_t n, float s) {
  for (int64_t i = 0; i < n; ++i) x[i] *= s;
}

void embed_tokens(const ModelWeights& w, std::span<const int32_t> tokens, float* x) {
  get_rows(w.tok_embd, tokens, x);
}

void attention_block(const ModelHParams& hp, const ModelWeights& w, int64_t il, const float* a,
                     const ForwardBatch& batch, float* out, const ForwardEnv& env) {
  const LayerWeights& L = w.layers[il];
  const int64_t n = static_cast<int64_t>(batch.tokens.size());
  const int64_t H = hp.n_head(il);
  const int64_t Hkv = hp.n_head_kv(il);
  const int64_t hd_k = hp.head_dim_k;
  const int64_t hd_v = hp.head_dim_v;
  const int64_t dq = H * hd_k;
  const int64_t dk = Hkv * hd_k;
  const int64_t dv = Hkv * hd_v;
  const bool single = batch.sequences.size() == 1;

  // q[n][H*hd_k]; k[n][Hkv*hd_k] and v[n][Hkv*hd_v]: one sequence's go straight into its cache, a
  // batched call's into scratch and then each sequence's rows into its own cache.
  float* q = env.ws.get(kQ, n * dq);
  const SequenceRows& first = batch.sequences[0];
  float* k = single ? first.state->k(il) + first.first_pos * dk : env.ws.get(kBatchK, n * dk);
  float* v = single ? first.state->v(il) + first.first_pos * dv : env.ws.get(kBatchV, n * dv);
  project_qkv(L, a, n, q, k, v, dq, dk, dv, env);

  if (hp.arch == Architecture::Olmoe) {
    // RMS norm over the whole projection width (all heads together).
    rms_norm(q, n, dq, dq, hp.rms_eps, L.q_norm.data(), nullptr, q);
    rms_norm(k, n, dk, dk, hp.rms_eps, L.k_norm.data(), nullptr, k);
  } else if (hp.arch == Architecture::Qwen3Moe) {
    // RMS norm of every head separately.
    rms_norm(q, n * H, hd_k, hd_k, hp.rms_eps, L.q_norm.data(), nullptr, q);
    rms_norm(k, n * Hkv, hd_k, hd_k, hp.rms_eps, L.k_norm.data(), nullptr, k);
  }

  if (hp.use_rope) {
    const RopeParams rope = rope_params(hp, il, hp.n_rot, data_or_null(w.rope_freqs));
    for (const SequenceRows& s : batch.sequences) {
      rope_rows(rope, q + s.row0 * dq, s.n, dq, H, hd_k, s.first_pos);
      rope_rows(rope, k + s.row0 * dk, s.n, dk, Hkv, hd_k, s.first_pos);
    }
  }
  if (!single) {
    for (const SequenceRows& s : batch.sequences) {
      std::memcpy(s.state->k(il) + s.first_pos * dk, k + s.row0 * dk, s.n * dk * sizeof(float));
      std::memcpy(s.state->v(il) + s.first_pos * dv, v + s.row0 * dv, s.n * dv * sizeof(float));
    }
  }

  AttentionParams p;
  p.n_head = H;
  p.n_head_kv = Hkv;
  p.head_dim_k = hd_k;
  p.head_dim_v = hd_v;
  p.kq_scale =
      hp.attention_scale != 0.0f ? hp.attention_scale : 1.0f / sqrtf(static_cast<float>(hd_k));
  if (hp.arch == Architecture::PhiMoe) {
    // phi3 scales Q after RoPE and attends with scale 1.
    scale(q, n * dq, 1.0f / sqrtf(static_cast<float>(hd_k)));
    p.kq_scale = 1.0f;
  } else if (hp.arch == Architecture::GptOss) {
    p.kq_scale = 1.0f / sqrtf(static_cast<float>(hp.n_rot));
    p.sinks = L.attn_sinks.data();
    if (hp.is_swa(il)) p.n_swa = hp.n_swa;
  }

  // o[n][H*hd_v] = softmax(q·Kᵀ)·V over each sequence's own cache, then out[n][n_embd] = Wo o
  // (+ bo).
  const int64_t o_width = H * hd_v;
  float* o = env.ws.get(kAttnOut, n * o_width);
  std::vector<AttentionSeq> seqs;
  for (const SequenceRows& s : batch.sequences) {
    seqs.push_back({q + s.row0 * dq, s.n, s.first_pos,
                    KvView{s.state->k(il), dk, s.state->v(il), dv}, o + s.row0 * o_width});
  }
  attention_batch(p, seqs, dq, o_width, env.pool);
  linear(L.wo, o, n, out, env);
}

MoeLayer moe_layer(const ModelHParams& hp, const ModelWeights& w, int64_t il,
                   ExpertActivation activation) {
  const LayerWeights& L = w.layers[il];
  MoeLayer m;
  m.layer = LayerId(static_cast<int32_t>(il));
  m.router = &L.router;
  m.routing = routing_params(hp);
  m.routing.selection_bias = L.selection_bias.empty() ? nullptr : L.selection_bias.data();
  m.activation = activation;
  m.n_embd = hp.n_embd;
  m.n_ff = hp.expert_ff(il);
  return m;
}

void output_head(const ModelHParams& hp, const ModelWeights& w, const float* x,
                 const ForwardBatch& batch, const ForwardEnv& env) {
  const int64_t E = hp.n_embd;
  const int64_t n = static_cast<int64_t>(batch.tokens.size());
  const auto n_seq = static_cast<int64_t>(batch.sequences.size());
  const int64_t rows = batch.all_logits ? n : n_seq;

  // kept[rows][n_embd]: every row, or the last row of each sequence.
  float* h = env.ws.get(kOutRows, rows * E);
  const float* kept = x;
  if (!batch.all_logits) {
    for (int64_t i = 0; i < n_seq; ++i) {
      const SequenceRows& s = batch.sequences[i];
      std::memcpy(h + i * E, x + (s.row0 + s.n - 1) * E, E * sizeof(float));
    }
    kept = h;
  }
  // h[rows][n_embd] = output_norm(kept), logits[rows][n_vocab] = W_out h (+ b_out). Each kept row
  // of a batched call is one sequence's only row, so where the product's rounding depends on the
  // batch size it is computed row by row, as for that sequence alone.
  rms_norm(kept, rows, E, E, hp.rms_eps, w.output_norm.data(), data_or_null(w.output_norm_b), h);
  if (batch.all_logits || n_seq == 1 ||
      matmul_batch_invariant(w.output.w.type, rows, env.precision)) {
    linear(w.output, h, rows, batch.logits, env);
  } else {
    for (int64_t i = 0; i < rows; ++i) {
      linear(w.output, h + i * E, 1, batch.logits + i * hp.n_vocab, env);
    }
  }
  if (hp.logit_scale != 0.0f) scale(batch.logits, rows * hp.n_vocab, 1.0f / hp.logit_scale);
}

}  // namespace moescope
