// DeepSeek-V2/V3 (deepseek2): multi-head latent attention, leading dense layers, routed experts
// plus always-on shared experts.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "engine/model/attention.h"
#include "engine/model/ffn.h"
#include "engine/model/forward.h"
#include "engine/model/norm.h"
#include "engine/model/rope.h"

namespace moescope {
namespace {

// DeepSeek's YaRN puts the magnitude correction into the attention scale instead of RoPE:
// kq_scale = m² / sqrt(nope + rope), m = attn_factor_org * (1 + 0.1 * mscale_all_dim * ln f).
float mla_kq_scale(const ModelHParams& hp, int64_t qk_dim) {
  const float log_f = logf(1.0f / hp.rope_freq_scale);
  const float attn_factor_org = hp.rope_attn_factor * (1.0f + 0.1f * log_f);
  const float m = attn_factor_org * (1.0f + 0.1f * hp.yarn_log_mul * log_f);
  return m * m / sqrtf(static_cast<float>(qk_dim));
}

// Copies n rows of `width` floats from src (row stride src_stride) to dst (dst_stride).
void copy_rows(const float* src, int64_t src_stride, float* dst, int64_t dst_stride, int64_t n,
               int64_t width) {
  for (int64_t t = 0; t < n; ++t) {
    std::memcpy(dst + t * dst_stride, src + t * src_stride, width * sizeof(float));
  }
}

// Multi-head latent attention of layer il for the normalised rows a[n][n_embd] of every sequence
// of the call: the projections run over all rows, RoPE, the cache and the attention per sequence
// (at its own positions, over its own cache). out[n][n_embd].
void mla_attention(const ModelHParams& hp, const ModelWeights& w, int64_t il, const float* a,
                   const ForwardBatch& batch, float* out, const ForwardEnv& env) {
  const LayerWeights& L = w.layers[il];
  Workspace& ws = env.ws;
  const int64_t n = static_cast<int64_t>(batch.tokens.size());
  const int64_t H = hp.n_head(il);
  const int64_t rope = hp.n_rot;
  const int64_t kvlr = hp.kv_lora_rank;
  const int64_t qk = hp.is_mla() ? hp.head_dim_k_mla : hp.head_dim_k;  // nope + rope
  const int64_t nope = qk - rope;
  const int64_t dv = hp.is_mla() ? hp.head_dim_v_mla : hp.head_dim_v;
  const bool single = batch.sequences.size() == 1;
  const RopeParams rope_p = rope_params(hp, il, rope, nullptr);

  // q[n][H][nope | rope]
  float* q = ws.get(kQ, n * H * qk);
  if (L.wq_a.present()) {
    float* qa = ws.get(kTmp0, n * hp.q_lora_rank);  // [n][q_lora]
    linear(L.wq_a, a, n, qa, env);
    rms_norm(qa, n, hp.q_lora_rank, hp.q_lora_rank, hp.rms_eps, L.q_a_norm.data(), nullptr, qa);
    linear(L.wq_b, qa, n, q, env);
  } else {
    linear(L.wq, a, n, q, env);
  }
  for (const SequenceRows& s : batch.sequences) {  // q_pe of every head
    rope_rows(rope_p, q + s.row0 * H * qk + nope, s.n, H * qk, H, qk, s.first_pos);
  }

  // c[n][kv_lora | rope] = [norm(kv_compressed) | RoPE(k_pe)], one shared key head. One sequence's
  // latents go straight into its cache, a batched call's into scratch and then into each cache.
  const int64_t dc = kvlr + rope;
  const SequenceRows& first = batch.sequences[0];
  float* c =
      hp.is_mla() && single ? first.state->k(il) + first.first_pos * dc : ws.get(kTmp1, n * dc);
  linear(L.wkv_a_mqa, a, n, c, env);
  for (const SequenceRows& s : batch.sequences) {
    rope_rows(rope_p, c + s.row0 * dc + kvlr, s.n, dc, 1, 0, s.first_pos);
  }
  rms_norm(c, n, kvlr, dc, hp.rms_eps, L.kv_a_norm.data(), nullptr, c);
  if (hp.is_mla() && !single) {
    for (const SequenceRows& s : batch.sequences) {
      copy_rows(c + s.row0 * dc, dc, s.state->k(il) + s.first_pos * dc, dc, s.n, dc);
    }
  }

  AttentionParams p;
  p.n_head = H;
  p.kq_scale = mla_kq_scale(hp, qk);
  float* o = ws.get(kAttnOut, n * H * dv);  // [n][H][v]
  if (hp.is_mla()) {
    // Absorbed form: each head's query moves into the latent space, q_abs_h = k_b_h · q_nope_h,
    // and attends over the cached latents c (keys [c | k_pe], values c) as one shared KV head.
    const int64_t dqa = dc;
    float* qa = ws.get(kTmp0, n * H * dqa);  // [n][H][kv_lora | rope]
    float* in = ws.get(kTmp2, n * std::max(nope, kvlr));
    float* res = ws.get(kTmp3, n * std::max(kvlr, dv));
    for (int64_t h = 0; h < H; ++h) {
      copy_rows(q + h * qk, H * qk, in, nope, n, nope);  // q_nope_h [n][nope]
      matmul_rows(L.wk_b[h], in, n, res, env);           // [n][kv_lora]
      copy_rows(res, kvlr, qa + h * dqa, H * dqa, n, kvlr);
      copy_rows(q + h * qk + nope, H * qk, qa + h * dqa + kvlr, H * dqa, n, rope);
    }
    p.n_head_kv = 1;
    p.head_dim_k = dqa;
    p.head_dim_v = kvlr;
    float* o_latent = ws.get(kTmp1, n * H * kvlr);  // [n][H][kv_lora]
    for (const SequenceRows& s : batch.sequences) {
      const KvView kv{s.state->k(il), dqa, s.state->k(il), dqa};
      attention(p, qa + s.row0 * H * dqa, H * dqa, s.n, s.first_pos, kv,
                o_latent + s.row0 * H * kvlr, H * kvlr, env.pool);
    }
    // Back from the latent space per head: o_h = v_b_h · o_latent_h
    for (int64_t h = 0; h < H; ++h) {
      copy_rows(o_latent + h * kvlr, H * kvlr, in, kvlr, n, kvlr);
      matmul_rows(L.wv_b[h], in, n, res, env);  // [n][v]
      copy_rows(res, dv, o + h * dv, H * dv, n, dv);
    }
  } else {
    // Decompressed form: kv[n][H][nope | v] = W_kv_b c; every head's key is [k_nope_h | k_pe],
    // written into each sequence's cache at its positions.
    float* latent = ws.get(kTmp2, n * kvlr);
    copy_rows(c, dc, latent, kvlr, n, kvlr);
    float* kv = ws.get(kTmp3, n * H * (nope + dv));
    linear(L.wkv_b, latent, n, kv, env);
    p.n_head_kv = H;
    p.head_dim_k = qk;
    p.head_dim_v = dv;
    for (const SequenceRows& s : batch.sequences) {
      InferenceState& cache = *s.state;
      float* k = cache.k(il) + s.first_pos * H * qk;
      float* v = cache.v(il) + s.first_pos * H * dv;
      const float* kv_s = kv + s.row0 * H * (nope + dv);
      const float* c_s = c + s.row0 * dc;
      for (int64_t h = 0; h < H; ++h) {
        copy_rows(kv_s + h * (nope + dv), H * (nope + dv), k + h * qk, H * qk, s.n, nope);
        copy_rows(c_s + kvlr, dc, k + h * qk + nope, H * qk, s.n, rope);
        copy_rows(kv_s + h * (nope + dv) + nope, H * (nope + dv), v + h * dv, H * dv, s.n, dv);
      }
      const KvView cached{cache.k(il), H * qk, cache.v(il), H * dv};
      attention(p, q + s.row0 * H * qk, H * qk, s.n, s.first_pos, cached, o + s.row0 * H * dv,
                H * dv, env.pool);
    }
  }
  linear(L.wo, o, n, out, env);
}

}  // namespace

void forward_deepseek2(const ModelHParams& hp, const ModelWeights& w, const ForwardBatch& batch,
                       const ForwardEnv& env) {
  const int64_t n = static_cast<int64_t>(batch.tokens.size());
  const int64_t E = hp.n_embd;
  Workspace& ws = env.ws;

  // x[n][E]: the residual stream.
  float* x = ws.get(kResidual, n * E);
  embed_tokens(w, batch.tokens, x);

  for (int64_t il = 0; il < hp.n_layer; ++il) {
    const LayerWeights& L = w.layers[il];

    // a[n][E] = attn_norm(x); attn[n][E] = Wo·MLA(a)
    float* a = ws.get(kAttnIn, n * E);
    rms_norm(x, n, E, E, hp.rms_eps, L.attn_norm.data(), nullptr, a);
    float* attn = ws.get(kProj, n * E);
    mla_attention(hp, w, il, a, batch, attn, env);

    // h[n][E] = x + attn; f[n][E] = ffn_norm(h)
    float* h = ws.get(kHidden, n * E);
    add(attn, x, h, n * E);
    float* f = ws.get(kFfnIn, n * E);
    rms_norm(h, n, E, E, hp.rms_eps, L.ffn_norm.data(), nullptr, f);

    // ffn[n][E] = dense SwiGLU (leading layers) or MoE(f) + shared experts(f)
    float* ffn = ws.get(kFfnOut, n * E);
    if (hp.is_moe_layer(il)) {
      env.moe.forward(moe_layer(hp, w, il, ExpertActivation::Silu), f, n, batch.event_pos0(), h,
                      ffn, env);
      if (L.shexp_up.present()) {
        float* shared = ws.get(kShared, n * E);
        swiglu_ffn(L.shexp_gate, L.shexp_up, L.shexp_down, f, n, shared, env);
        add(ffn, shared, ffn, n * E);
      }
    } else {
      swiglu_ffn(L.ffn_gate, L.ffn_up, L.ffn_down, f, n, ffn, env);
    }

    // x = h + ffn
    add(ffn, h, x, n * E);
  }

  output_head(hp, w, x, batch, env);
}

}  // namespace moescope
