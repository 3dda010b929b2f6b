// The MoE block's decode step (one token): the top-k experts are held together, so their
// products run in two parallel regions (gate and up of every expert, then every down) instead of
// one per matrix, with the token's activation converted once for all gate/up products
// (matvec_group). Each value is the one the per-expert path computes: the same one-token dot
// kernels on the same converted activation, the same activation and bias steps per expert.
#include <cstring>

#include "engine/common/error.h"
#include "engine/model/activations.h"
#include "engine/model/moe_block.h"

namespace moescope {

void MoeBlock::decode_ready_first(const MoeLayer& layer, const float* x, const ForwardEnv& env) {
  for (size_t i = 0; i < order_.size();) {
    const size_t count = env.experts.take_ready(layer.layer, std::span(order_).subspan(i));
    if (count == 0 || count > order_.size() - i) {
      fail("the expert provider chose no pending expert");
    }
    decode_experts(layer, x, env, i, count);
    i += count;
  }
}

void MoeBlock::decode_experts(const MoeLayer& layer, const float* x, const ForwardEnv& env,
                              size_t first, size_t count) {
  held_.clear();
  try {
    for (size_t i = 0; i < count; ++i) {
      held_.push_back(env.experts.acquire(layer.layer, order_[first + i]));
    }
    decode_projections(layer, x, env, first);
  } catch (...) {
    for (size_t i = 0; i < held_.size(); ++i) env.experts.release(layer.layer, order_[first + i]);
    throw;
  }
  for (size_t i = 0; i < held_.size(); ++i) env.experts.release(layer.layer, order_[first + i]);

  // Weighted outputs into their slots (n == 1: expert order_[first + i] has one use, its slot).
  const int64_t E = layer.n_embd;
  for (size_t i = 0; i < count; ++i) {
    const int32_t use = uses_[order_[first + i].value][0];
    const float weight = weights_[use];
    float* dst = &slot_out_[static_cast<int64_t>(use) * E];
    const float* src = &down_[static_cast<int64_t>(i) * E];
    for (int64_t v = 0; v < E; ++v) dst[v] = src[v] * weight;
  }
}

void MoeBlock::decode_projections(const MoeLayer& layer, const float* x, const ForwardEnv& env,
                                  size_t first) {
  const int64_t E = layer.n_embd;
  const int64_t F = layer.n_ff;
  const auto n = static_cast<int64_t>(held_.size());
  gate_.resize(n * 2 * F);  // expert i: [gate | up] of a fused gate_up, else its gate
  up_.resize(n * F);        // expert i: up, then the activation
  down_.resize(n * E);

  // gate and up of every expert, one parallel region; all of them read x.
  jobs_.clear();
  for (int64_t i = 0; i < n; ++i) {
    const ExpertWeights& w = held_[i];
    if (w.gate_up.data != nullptr) {
      check_expert_view(w.gate_up, 2 * F, E, "gate_up", layer.layer, order_[first + size_t(i)]);
      jobs_.push_back({w.gate_up, x, &gate_[i * 2 * F]});
      continue;
    }
    check_expert_view(w.up, F, E, "up", layer.layer, order_[first + size_t(i)]);
    jobs_.push_back({w.up, x, &up_[i * F]});
    if (w.gate.data != nullptr) {
      check_expert_view(w.gate, F, E, "gate", layer.layer, order_[first + size_t(i)]);
      jobs_.push_back({w.gate, x, &gate_[i * 2 * F]});
    }
  }
  matvec_group(jobs_, env.pool);

  // Biases and the activation, expert by expert (into up_).
  for (int64_t i = 0; i < n; ++i) {
    const ExpertWeights& w = held_[i];
    const float* gate = nullptr;
    float* up = &up_[i * F];
    if (w.gate_up.data != nullptr) {
      std::memcpy(up, &gate_[i * 2 * F + F], F * sizeof(float));
      gate = &gate_[i * 2 * F];
    } else {
      add_bias(w.up_bias, F, up, 1, env);
      if (w.gate.data != nullptr) {
        add_bias(w.gate_bias, F, &gate_[i * 2 * F], 1, env);
        gate = &gate_[i * 2 * F];
      }
    }
    if (layer.activation == ExpertActivation::SwigluOai) {
      if (gate == nullptr) fail("layer {} experts have no gate projection", layer.layer.value);
      swiglu_oai(gate, up, up, F);
    } else if (gate != nullptr) {
      swiglu(gate, up, up, F);
    } else {
      for (int64_t v = 0; v < F; ++v) up[v] = silu(up[v]);
    }
  }

  // Every down projection, one parallel region.
  jobs_.clear();
  for (int64_t i = 0; i < n; ++i) {
    check_expert_view(held_[i].down, E, F, "down", layer.layer, order_[first + size_t(i)]);
    jobs_.push_back({held_[i].down, &up_[i * F], &down_[i * E]});
  }
  matvec_group(jobs_, env.pool);
  for (int64_t i = 0; i < n; ++i) add_bias(held_[i].down_bias, E, &down_[i * E], 1, env);
}

}  // namespace moescope
