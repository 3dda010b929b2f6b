// The MoE block's prompt step when every expert can be held at once: a prompt gives each of many
// experts a few tokens (64 experts top-8, 32 tokens: about four each), so one matmul per expert
// and matrix is a parallel region, and a barrier, per few hundred microseconds of work, with the
// expert's serial steps (gathering, converting its activations) between them. Here all experts'
// gate/up products are one matmul_group, the activations follow expert by expert, and all down
// products are another matmul_group. Each value is the one the per-expert path computes: the same
// dot kernels on the same (row, token) pairs, the same bias and activation steps per expert.
#include <algorithm>
#include <cstring>

#include "engine/common/error.h"
#include "engine/model/moe_block.h"

namespace moescope {
namespace {

// fn(i) for each of order_'s experts i, split between the pool's threads (gathering, activations
// and scattering are a few percent of a prompt's time, which a second thread would wait for).
template <class Fn>
void for_each_expert_of(size_t n, const ForwardEnv& env, Fn&& fn) {
  env.pool.parallel_for(static_cast<int64_t>(n), [&](int64_t begin, int64_t end, int) {
    for (int64_t i = begin; i < end; ++i) fn(static_cast<size_t>(i));
  });
}

}  // namespace

bool MoeBlock::prefill_experts(const MoeLayer& layer, const float* x, const ForwardEnv& env) {
  const int64_t K = layer.routing.n_used;
  const int64_t E = layer.n_embd;
  first_row_.assign(1, 0);
  for (const ExpertId e : order_) {
    first_row_.push_back(first_row_.back() + static_cast<int64_t>(uses_[e.value].size()));
  }
  held_.clear();
  const auto release_all = [&] {
    for (size_t i = 0; i < held_.size(); ++i) env.experts.release(layer.layer, order_[i]);
    held_.clear();
  };
  try {
    for (const ExpertId e : order_) held_.push_back(env.experts.acquire(layer.layer, e));
    // matmul_group runs the dot kernels; where matmul would not (sgemm on f32 weights), the
    // per-expert path computes what it always did.
    for (size_t i = 0; i < held_.size(); ++i) {
      const ExpertWeights& w = held_[i];
      const int64_t m = first_row_[i + 1] - first_row_[i];
      const GgmlType type = w.gate_up.data != nullptr ? w.gate_up.type : w.up.type;
      if (!matmul_batch_invariant(type, m, env.precision) ||
          !matmul_batch_invariant(w.down.type, m, env.precision)) {
        release_all();
        return false;
      }
    }
    // xe[rows][E]: expert i's tokens from row first_row_[i] on.
    xe_.resize(static_cast<size_t>(first_row_.back() * E));
    for_each_expert_of(order_.size(), env, [&](size_t i) {
      const std::vector<int32_t>& uses = uses_[order_[i].value];
      for (size_t r = 0; r < uses.size(); ++r) {
        std::memcpy(&xe_[(first_row_[i] + static_cast<int64_t>(r)) * E], x + (uses[r] / K) * E,
                    E * sizeof(float));
      }
    });
    prefill_products(layer, env);
  } catch (...) {
    release_all();
    throw;
  }
  release_all();
  // Each use is one (token, slot) place: the experts write disjoint rows.
  for_each_expert_of(order_.size(), env, [&](size_t i) {
    scatter_outputs(uses_[order_[i].value], &down_[first_row_[i] * E], E);
  });
  return true;
}

void MoeBlock::prefill_products(const MoeLayer& layer, const ForwardEnv& env) {
  const int64_t E = layer.n_embd;
  const int64_t F = layer.n_ff;
  const int64_t rows = first_row_.back();
  gate_.resize(static_cast<size_t>(rows * 2 * F));  // expert i's rows: [m][2F] of a fused
                                                    // gate_up, else its gate [m][F]
  up_.resize(static_cast<size_t>(rows * F));        // up, then the activation
  down_.resize(static_cast<size_t>(rows * E));

  // gate and up of every expert, one matmul_group; an expert's gate and up read the same rows.
  batch_jobs_.clear();
  for (size_t i = 0; i < held_.size(); ++i) {
    const ExpertWeights& w = held_[i];
    const int64_t r0 = first_row_[i], m = first_row_[i + 1] - r0;
    const float* xe = &xe_[r0 * E];
    if (w.gate_up.data != nullptr) {
      check_expert_view(w.gate_up, 2 * F, E, "gate_up", layer.layer, order_[i]);
      batch_jobs_.push_back({w.gate_up, xe, m, &gate_[r0 * 2 * F]});
      continue;
    }
    check_expert_view(w.up, F, E, "up", layer.layer, order_[i]);
    batch_jobs_.push_back({w.up, xe, m, &up_[r0 * F]});
    if (w.gate.data != nullptr) {
      check_expert_view(w.gate, F, E, "gate", layer.layer, order_[i]);
      batch_jobs_.push_back({w.gate, xe, m, &gate_[r0 * 2 * F]});
    }
  }
  matmul_group(batch_jobs_, env.pool);

  // The activations, expert by expert; in parallel unless a bias is added (add_bias dequantizes it
  // into the one workspace row).
  const auto activate = [&](size_t i) {
    const int64_t r0 = first_row_[i];
    activate_rows(layer, held_[i], &gate_[r0 * 2 * F], &up_[r0 * F], first_row_[i + 1] - r0, env);
  };
  const bool biases = std::any_of(held_.begin(), held_.end(), [](const ExpertWeights& w) {
    return w.up_bias.data != nullptr || w.gate_bias.data != nullptr;
  });
  if (biases) {
    for (size_t i = 0; i < held_.size(); ++i) activate(i);
  } else {
    for_each_expert_of(order_.size(), env, activate);
  }

  // Every down projection, one matmul_group.
  batch_jobs_.clear();
  for (size_t i = 0; i < held_.size(); ++i) {
    const int64_t r0 = first_row_[i], m = first_row_[i + 1] - r0;
    check_expert_view(held_[i].down, E, F, "down", layer.layer, order_[i]);
    batch_jobs_.push_back({held_[i].down, &up_[r0 * F], m, &down_[r0 * E]});
  }
  matmul_group(batch_jobs_, env.pool);
  for (size_t i = 0; i < held_.size(); ++i) {
    const int64_t r0 = first_row_[i];
    add_bias(held_[i].down_bias, E, &down_[r0 * E], first_row_[i + 1] - r0, env);
  }
}

}  // namespace moescope
