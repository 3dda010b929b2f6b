// gpt-oss (llama.cpp's OPENAI_MOE): attention with per-head sinks on alternating sliding-window
// and full layers, a biased router with softmax over the selected logits, and biased experts
// with the clamped SwiGLU.
#include "engine/model/forward.h"
#include "engine/model/norm.h"

namespace moescope {

void forward_gpt_oss(const ModelHParams& hp, const ModelWeights& w, const ForwardBatch& batch,
                     const ForwardEnv& env) {
  const int64_t n = static_cast<int64_t>(batch.tokens.size());
  const int64_t E = hp.n_embd;
  Workspace& ws = env.ws;

  // x[n][E]: the residual stream.
  float* x = ws.get(kResidual, n * E);
  embed_tokens(w, batch.tokens, x);

  for (int64_t il = 0; il < hp.n_layer; ++il) {
    const LayerWeights& L = w.layers[il];

    // a[n][E] = attn_norm(x); attn[n][E] = Wo·Attention(a) + bo (sinks; SWA on some layers)
    float* a = ws.get(kAttnIn, n * E);
    rms_norm(x, n, E, E, hp.rms_eps, L.attn_norm.data(), nullptr, a);
    float* attn = ws.get(kProj, n * E);
    attention_block(hp, w, il, a, batch, attn, env);

    // h[n][E] = x + attn; f[n][E] = post_attention_norm(h)
    float* h = ws.get(kHidden, n * E);
    add(attn, x, h, n * E);
    float* f = ws.get(kFfnIn, n * E);
    rms_norm(h, n, E, E, hp.rms_eps, L.ffn_norm.data(), nullptr, f);

    // moe[n][E] = Σ softmax(top-k logits) · expert(f) with swiglu_oai experts
    float* moe = ws.get(kFfnOut, n * E);
    env.moe.forward(moe_layer(hp, w, il, ExpertActivation::SwigluOai), f, n, batch.event_pos0(), h,
                    moe, env);

    // x = h + moe
    add(moe, h, x, n * E);
  }

  output_head(hp, w, x, batch, env);
}

}  // namespace moescope
