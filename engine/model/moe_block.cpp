#include "engine/model/moe_block.h"

#include <algorithm>
#include <cstring>

#include "engine/common/error.h"
#include "engine/model/activations.h"

namespace moescope {
namespace {

void check_view(const WeightView& w, int64_t rows, int64_t cols, const char* what, LayerId layer,
                ExpertId expert) {
  if (w.data == nullptr || w.rows != rows || w.cols != cols) {
    fail("expert provider returned a bad {} view for layer {} expert {}", what, layer.value,
         expert.value);
  }
}

}  // namespace

void MoeBlock::forward(const MoeLayer& layer, const float* x, int64_t n, int64_t first_pos,
                       const float* hidden, float* out, const ForwardEnv& env) {
  const int64_t X = layer.routing.n_expert;
  const int64_t K = layer.routing.n_used;
  const int64_t E = layer.n_embd;

  // Router: logits[n][X] = W_r x (+ b_r).
  logits_.resize(n * X);
  linear(*layer.router, x, n, logits_.data(), env);

  // Routing decisions (possibly changed by a lossy gating variant), reported token by token.
  selected_.resize(n * K);
  weights_.resize(n * K);
  scores_.resize(n * K);
  n_kept_.assign(n, K);
  for (int64_t t = 0; t < n; ++t) {
    route_token(layer.routing, &logits_[t * X], &selected_[t * K], &weights_[t * K],
                &scores_[t * K], scratch_);
    const TokenPos pos(static_cast<int32_t>(first_pos + t));
    if (env.routing != nullptr) n_kept_[t] = override_routing(layer, pos, n, t, env);
    const auto kept = static_cast<size_t>(n_kept_[t]);
    if (env.observer != nullptr) {
      env.observer->on_routing(MoeRoutingEvent{
          layer.layer,
          pos,
          {hidden + t * E, static_cast<size_t>(E)},
          {&logits_[t * X], static_cast<size_t>(X)},
          {&selected_[t * K], kept},
          {&weights_[t * K], kept},
          {&scores_[t * K], kept},
      });
    }
  }

  // Group the uses by expert; process experts in ascending id order.
  uses_.resize(X);
  for (auto& u : uses_) u.clear();
  for (int64_t i = 0; i < n * K; ++i) {
    if (i % K < n_kept_[i / K]) uses_[selected_[i].value].push_back(static_cast<int32_t>(i));
  }
  order_.clear();
  for (int64_t e = 0; e < X; ++e) {
    if (!uses_[e].empty()) order_.push_back(ExpertId(static_cast<int32_t>(e)));
  }
  env.experts.hint_upcoming(layer.layer, order_);

  slot_out_.resize(n * K * E);
  for (ExpertId e : order_) run_expert(layer, e, uses_[e.value], x, env);

  // Sum the weighted expert outputs in top-k order (llama.cpp adds slot 0, then 1, ...).
  for (int64_t t = 0; t < n; ++t) {
    float* o = out + t * E;
    std::memcpy(o, &slot_out_[(t * K) * E], E * sizeof(float));
    for (int64_t k = 1; k < n_kept_[t]; ++k) {
      const float* s = &slot_out_[(t * K + k) * E];
      for (int64_t i = 0; i < E; ++i) o[i] += s[i];
    }
  }
}

int64_t MoeBlock::override_routing(const MoeLayer& layer, TokenPos pos, int64_t n, int64_t t,
                                   const ForwardEnv& env) {
  const int64_t X = layer.routing.n_expert;
  const int64_t K = layer.routing.n_used;
  const auto k = static_cast<size_t>(K);
  const int32_t kept = env.routing->adjust(RoutingChoice{
      layer.layer,
      pos,
      static_cast<int32_t>(n),
      {&logits_[t * X], static_cast<size_t>(X)},
      {&selected_[t * K], k},
      {&weights_[t * K], k},
      {&scores_[t * K], k},
  });
  if (kept < 1 || kept > K) {
    fail("the routing override kept {} of {} experts at layer {}", kept, K, layer.layer.value);
  }
  for (int32_t j = 0; j < kept; ++j) {
    const ExpertId e = selected_[t * K + j];
    bool repeated = false;
    for (int32_t i = 0; i < j; ++i) repeated = repeated || selected_[t * K + i] == e;
    if (e.value < 0 || e.value >= X || repeated) {
      fail("the routing override chose expert {} at layer {}, which is not a new expert", e.value,
           layer.layer.value);
    }
  }
  return kept;
}

void MoeBlock::run_expert(const MoeLayer& layer, ExpertId expert, const std::vector<int32_t>& uses,
                          const float* x, const ForwardEnv& env) {
  const int64_t K = layer.routing.n_used;
  const int64_t E = layer.n_embd;
  const int64_t F = layer.n_ff;
  const int64_t m = static_cast<int64_t>(uses.size());

  // xe[m][E]: the inputs of the tokens that chose this expert.
  xe_.resize(m * E);
  for (int64_t r = 0; r < m; ++r) {
    std::memcpy(&xe_[r * E], x + (uses[r] / K) * E, E * sizeof(float));
  }
  gate_.resize(m * 2 * F);
  up_.resize(m * F);
  down_.resize(m * E);

  const ExpertWeights w = env.experts.acquire(layer.layer, expert);
  try {
    // gate[m][F], up[m][F]
    const float* gate = nullptr;
    if (w.gate_up.data != nullptr) {
      check_view(w.gate_up, 2 * F, E, "gate_up", layer.layer, expert);
      matmul(w.gate_up, xe_.data(), m, gate_.data(), env.pool, env.precision);
      for (int64_t r = 0; r < m; ++r) {
        std::memcpy(&up_[r * F], &gate_[r * 2 * F + F], F * sizeof(float));
        std::memmove(&gate_[r * F], &gate_[r * 2 * F], F * sizeof(float));
      }
      gate = gate_.data();
    } else {
      check_view(w.up, F, E, "up", layer.layer, expert);
      matmul_bias(w.up, w.up_bias, xe_.data(), m, up_.data(), env);
      if (w.gate.data != nullptr) {
        check_view(w.gate, F, E, "gate", layer.layer, expert);
        matmul_bias(w.gate, w.gate_bias, xe_.data(), m, gate_.data(), env);
        gate = gate_.data();
      }
    }
    // act[m][F] (in up_)
    if (layer.activation == ExpertActivation::SwigluOai) {
      if (gate == nullptr) fail("layer {} experts have no gate projection", layer.layer.value);
      swiglu_oai(gate, up_.data(), up_.data(), m * F);
    } else if (gate != nullptr) {
      swiglu(gate, up_.data(), up_.data(), m * F);
    } else {
      for (int64_t i = 0; i < m * F; ++i) up_[i] = silu(up_[i]);
    }
    // down[m][E]
    check_view(w.down, E, F, "down", layer.layer, expert);
    matmul_bias(w.down, w.down_bias, up_.data(), m, down_.data(), env);
  } catch (...) {
    env.experts.release(layer.layer, expert);
    throw;
  }
  env.experts.release(layer.layer, expert);

  // Weighted outputs into their (token, slot) places.
  for (int64_t r = 0; r < m; ++r) {
    const float weight = weights_[uses[r]];
    float* dst = &slot_out_[static_cast<int64_t>(uses[r]) * E];
    const float* src = &down_[r * E];
    for (int64_t i = 0; i < E; ++i) dst[i] = src[i] * weight;
  }
}

}  // namespace moescope
