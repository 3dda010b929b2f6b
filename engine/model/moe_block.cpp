#include "engine/model/moe_block.h"

#include <algorithm>
#include <cstring>

#include "engine/common/error.h"
#include "engine/model/activations.h"

namespace moescope {
void check_expert_view(const WeightView& w, int64_t rows, int64_t cols, const char* what,
                       LayerId layer, ExpertId expert) {
  if (w.data == nullptr || w.rows != rows || w.cols != cols) {
    fail("expert provider returned a bad {} view for layer {} expert {}", what, layer.value,
         expert.value);
  }
}

namespace {
// An offloaded decode step groups the experts that are in memory (decode_ready_first) only when
// one expert's gate product has at least this many multiply-adds: then each per-expert product
// is a parallel region of its own anyway, and grouping saves those regions' barriers. Smaller
// experts (the built-in model's: ~18 K) run alone on the calling thread in a per-expert product,
// which measured faster than waking the pool for a group on the shared 2-core machine (ABBA, 6
// rounds, bench/offload: 0.64-0.86x with the prefetchers, whose groups are larger).
constexpr int64_t kGroupMinMacs = 256 * 1024;
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
  }
  if (env.routing != nullptr) override_batch(layer, n, env);
  for (int64_t t = 0; t < n && env.observer != nullptr; ++t) {
    const auto kept = static_cast<size_t>(n_kept_[t]);
    env.observer->on_routing(MoeRoutingEvent{
        layer.layer,
        TokenPos(static_cast<int32_t>(first_pos + t)),
        {hidden + t * E, static_cast<size_t>(E)},
        {&logits_[t * X], static_cast<size_t>(X)},
        {&selected_[t * K], kept},
        {&weights_[t * K], kept},
        {&scores_[t * K], kept},
    });
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
  const bool fast = env.precision == MatmulPrecision::Fast;
  const bool holds_all = env.experts.max_held() >= static_cast<int64_t>(order_.size());
  if (n == 1 && fast && holds_all) {
    decode_experts(layer, x, env, 0, order_.size());
  } else if (n == 1 && fast && layer.n_ff * layer.n_embd >= kGroupMinMacs) {
    decode_ready_first(layer, x, env);
  } else if (n == 1 || !fast || !holds_all || !prefill_experts(layer, x, env)) {
    // Experts whose weights are in memory first (next_to_run), so that loads overlap compute.
    for (size_t i = 0; i < order_.size(); ++i) {
      const size_t j = i + env.experts.next_to_run(layer.layer, std::span(order_).subspan(i));
      if (j >= order_.size()) fail("the expert provider chose no pending expert");
      std::rotate(order_.begin() + std::ptrdiff_t(i), order_.begin() + std::ptrdiff_t(j),
                  order_.begin() + std::ptrdiff_t(j) + 1);
      run_expert(layer, order_[i], uses_[order_[i].value], x, env);
    }
  }

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
  check_override(layer, t, kept);
  return kept;
}

void MoeBlock::override_batch(const MoeLayer& layer, int64_t n, const ForwardEnv& env) {
  const int64_t X = layer.routing.n_expert;
  const int64_t K = layer.routing.n_used;
  const auto nk = static_cast<size_t>(n * K);
  env.routing->adjust_batch(BatchRoutingChoice{
      layer.layer,
      static_cast<int32_t>(n),
      static_cast<int32_t>(K),
      static_cast<int32_t>(X),
      {logits_.data(), static_cast<size_t>(n * X)},
      {selected_.data(), nk},
      {weights_.data(), nk},
      {scores_.data(), nk},
      {n_kept_.data(), static_cast<size_t>(n)},
  });
  for (int64_t t = 0; t < n; ++t) check_override(layer, t, n_kept_[t]);
}

void MoeBlock::check_override(const MoeLayer& layer, int64_t t, int64_t kept) const {
  const int64_t X = layer.routing.n_expert;
  const int64_t K = layer.routing.n_used;
  if (kept < 1 || kept > K) {
    fail("the routing override kept {} of {} experts at layer {}", kept, K, layer.layer.value);
  }
  for (int64_t j = 0; j < kept; ++j) {
    const ExpertId e = selected_[t * K + j];
    bool repeated = false;
    for (int64_t i = 0; i < j; ++i) repeated = repeated || selected_[t * K + i] == e;
    if (e.value < 0 || e.value >= X || repeated) {
      fail("the routing override chose expert {} at layer {}, which is not a new expert", e.value,
           layer.layer.value);
    }
  }
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
    // A batched call: where the products' rounding depends on the batch size, the rows of each
    // sequence (uses are in row order, so sequences are runs) go through the expert on their own.
    const GgmlType type = w.gate_up.data != nullptr ? w.gate_up.type : w.up.type;
    if (env.sequences.size() > 1 && !(matmul_batch_invariant(type, m, env.precision) &&
                                      matmul_batch_invariant(w.down.type, m, env.precision))) {
      size_t s = 0;
      for (int64_t r0 = 0; r0 < m;) {
        auto row_end = [&] { return env.sequences[s].row0 + env.sequences[s].n; };
        while (uses[r0] / K >= row_end()) ++s;
        int64_t r1 = r0;
        while (r1 < m && uses[r1] / K < row_end()) ++r1;
        expert_rows(layer, expert, w, r0, r1 - r0, env);
        r0 = r1;
      }
    } else {
      expert_rows(layer, expert, w, 0, m, env);
    }
  } catch (...) {
    env.experts.release(layer.layer, expert);
    throw;
  }
  env.experts.release(layer.layer, expert);

  scatter_outputs(uses, down_.data(), E);
}

void MoeBlock::scatter_outputs(const std::vector<int32_t>& uses, const float* down_rows,
                               int64_t E) {
  // Weighted outputs into their (token, slot) places.
  for (size_t r = 0; r < uses.size(); ++r) {
    const float weight = weights_[uses[r]];
    float* dst = &slot_out_[static_cast<int64_t>(uses[r]) * E];
    const float* src = down_rows + static_cast<int64_t>(r) * E;
    for (int64_t i = 0; i < E; ++i) dst[i] = src[i] * weight;
  }
}

void MoeBlock::expert_rows(const MoeLayer& layer, ExpertId expert, const ExpertWeights& w,
                           int64_t r0, int64_t m, const ForwardEnv& env) {
  const int64_t E = layer.n_embd;
  const int64_t F = layer.n_ff;
  const float* xe = &xe_[r0 * E];
  float* gate_rows = &gate_[r0 * 2 * F];
  float* up_rows = &up_[r0 * F];
  // gate[m][F] (fused: gate_up[m][2F]), up[m][F]
  if (w.gate_up.data != nullptr) {
    check_expert_view(w.gate_up, 2 * F, E, "gate_up", layer.layer, expert);
    matmul(w.gate_up, xe, m, gate_rows, env.pool, env.precision);
  } else {
    check_expert_view(w.up, F, E, "up", layer.layer, expert);
    matmul(w.up, xe, m, up_rows, env.pool, env.precision);
    if (w.gate.data != nullptr) {
      check_expert_view(w.gate, F, E, "gate", layer.layer, expert);
      matmul(w.gate, xe, m, gate_rows, env.pool, env.precision);
    }
  }
  activate_rows(layer, w, gate_rows, up_rows, m, env);
  // down[m][E]
  check_expert_view(w.down, E, F, "down", layer.layer, expert);
  matmul_bias(w.down, w.down_bias, up_rows, m, &down_[r0 * E], env);
}

void MoeBlock::activate_rows(const MoeLayer& layer, const ExpertWeights& w, float* gate_rows,
                             float* up_rows, int64_t m, const ForwardEnv& env) {
  const int64_t F = layer.n_ff;
  const float* gate = nullptr;
  if (w.gate_up.data != nullptr) {
    for (int64_t r = 0; r < m; ++r) {
      std::memcpy(&up_rows[r * F], &gate_rows[r * 2 * F + F], F * sizeof(float));
      std::memmove(&gate_rows[r * F], &gate_rows[r * 2 * F], F * sizeof(float));
    }
    gate = gate_rows;
  } else {
    add_bias(w.up_bias, F, up_rows, m, env);
    if (w.gate.data != nullptr) {
      add_bias(w.gate_bias, F, gate_rows, m, env);
      gate = gate_rows;
    }
  }
  // act[m][F] (in up)
  if (layer.activation == ExpertActivation::SwigluOai) {
    if (gate == nullptr) fail("layer {} experts have no gate projection", layer.layer.value);
    swiglu_oai(gate, up_rows, up_rows, m * F);
  } else if (gate != nullptr) {
    swiglu(gate, up_rows, up_rows, m * F);
  } else {
    for (int64_t i = 0; i < m * F; ++i) up_rows[i] = silu(up_rows[i]);
  }
}

}  // namespace moescope
