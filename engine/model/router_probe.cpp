#include "engine/model/router_probe.h"

#include <algorithm>

#include "engine/common/error.h"
#include "engine/model/model.h"
#include "engine/model/norm.h"
#include "engine/model/weights.h"

namespace moescope {

RouterProbe::RouterProbe(Model& model) : model_(model) {}

void RouterProbe::top_experts(LayerId layer, std::span<const float> hidden, int32_t k,
                              std::vector<ExpertId>& out) {
  const ModelHParams& hp = model_.hparams();
  const int64_t il = layer.value;
  if (il < 0 || il >= hp.n_layer || !hp.is_moe_layer(il)) {
    fail("block {} has no router to probe", il);
  }
  const int64_t E = hp.n_embd;
  if (static_cast<int64_t>(hidden.size()) != E) {
    fail("the router probe needs a hidden state of {} values, got {}", E, hidden.size());
  }
  const LayerWeights& L = model_.weights().layers[size_t(il)];

  // f[n_embd] = ffn_norm(hidden); logits[n_expert] = W_r f (+ b_r)
  normed_.resize(size_t(E));
  rms_norm(hidden.data(), 1, E, E, hp.rms_eps, L.ffn_norm.empty() ? nullptr : L.ffn_norm.data(),
           L.ffn_norm_b.empty() ? nullptr : L.ffn_norm_b.data(), normed_.data());
  const int64_t X = L.router.rows();
  logits_.resize(size_t(X));
  matmul(L.router.w, normed_.data(), 1, logits_.data(), model_.thread_pool(), model_.precision());
  for (size_t i = 0; i < L.router.bias.size() && i < logits_.size(); ++i) {
    logits_[i] += L.router.bias[i];
  }

  RoutingParams p = routing_params(hp);
  p.selection_bias = L.selection_bias.empty() ? nullptr : L.selection_bias.data();
  p.n_used = std::clamp<int64_t>(k, 1, X);
  out.resize(size_t(p.n_used));
  weights_.resize(size_t(p.n_used));
  scores_.resize(size_t(p.n_used));
  route_token(p, logits_.data(), out.data(), weights_.data(), scores_.data(), scratch_);
}

}  // namespace moescope
