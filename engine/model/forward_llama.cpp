// The llama family: Mixtral-style llama, granitemoe, phimoe, qwen2moe, qwen3moe and olmoe share
// one pre-norm graph; their differences are small switches noted where they apply.
#include <cmath>

#include "engine/model/activations.h"
#include "engine/model/ffn.h"
#include "engine/model/forward.h"
#include "engine/model/norm.h"

namespace moescope {
namespace {

const float* data_or_null(const std::vector<float>& v) {
  return v.empty() ? nullptr : v.data();
}

// qwen2moe's shared expert: out += sigmoid(w_g · f) * SwiGLU_shexp(f), the gate computed as
// llama.cpp does, silu(g) / g (which is sigmoid(g); at g == 0 exactly that would be 0/0, so the
// limit 1/2 is used there).
void add_gated_shared_expert(const LayerWeights& L, const float* f, int64_t n, int64_t E,
                             float* out, const ForwardEnv& env) {
  float* shared = env.ws.get(kShared, n * E);  // [n][E]
  swiglu_ffn(L.shexp_gate, L.shexp_up, L.shexp_down, f, n, shared, env);
  float* g = env.ws.get(kTmp1, n);  // [n][1]
  linear(L.shexp_gate_inp, f, n, g, env);
  for (int64_t t = 0; t < n; ++t) {
    const float gate = g[t] != 0.0f ? silu(g[t]) / g[t] : 0.5f;
    for (int64_t i = 0; i < E; ++i) out[t * E + i] += shared[t * E + i] * gate;
  }
}

}  // namespace

void forward_llama(const ModelHParams& hp, const ModelWeights& w, const ForwardBatch& batch,
                   const ForwardEnv& env) {
  const int64_t n = static_cast<int64_t>(batch.tokens.size());
  const int64_t E = hp.n_embd;
  Workspace& ws = env.ws;

  // x[n][E]: the residual stream.
  float* x = ws.get(kResidual, n * E);
  embed_tokens(w, batch.tokens, x);
  if (hp.embedding_scale != 0.0f) scale(x, n * E, hp.embedding_scale);  // granite

  for (int64_t il = 0; il < hp.n_layer; ++il) {
    const LayerWeights& L = w.layers[il];

    // a[n][E] = attn_norm(x); attn[n][E] = Attention(a)
    float* a = ws.get(kAttnIn, n * E);
    rms_norm(x, n, E, E, hp.rms_eps, L.attn_norm.data(), data_or_null(L.attn_norm_b), a);
    float* attn = ws.get(kProj, n * E);
    attention_block(hp, w, il, a, batch, attn, env);
    if (hp.residual_scale != 0.0f) scale(attn, n * E, hp.residual_scale);  // granite

    // h[n][E] = x + attn; f[n][E] = ffn_norm(h)
    float* h = ws.get(kHidden, n * E);
    add(attn, x, h, n * E);
    float* f = ws.get(kFfnIn, n * E);
    rms_norm(h, n, E, E, hp.rms_eps, L.ffn_norm.data(), data_or_null(L.ffn_norm_b), f);

    // ffn[n][E] = MoE(f) (+ shared expert), or a dense SwiGLU for expert-less layers
    float* ffn = ws.get(kFfnOut, n * E);
    if (hp.is_moe_layer(il)) {
      env.moe.forward(moe_layer(hp, w, il, ExpertActivation::Silu), f, n, batch.event_pos0(), h,
                      ffn, env);
      if (hp.arch == Architecture::Qwen2Moe) {
        add_gated_shared_expert(L, f, n, E, ffn, env);
      } else if (L.shexp_up.present()) {  // GraniteMoeShared: ungated
        float* shared = ws.get(kShared, n * E);
        swiglu_ffn(L.shexp_gate, L.shexp_up, L.shexp_down, f, n, shared, env);
        add(ffn, shared, ffn, n * E);
      }
    } else {
      swiglu_ffn(L.ffn_gate, L.ffn_up, L.ffn_down, f, n, ffn, env);
    }
    if (hp.residual_scale != 0.0f) scale(ffn, n * E, hp.residual_scale);  // granite

    // x = h + ffn
    add(ffn, h, x, n * E);
  }

  output_head(hp, w, x, batch, env);
}

}  // namespace moescope
