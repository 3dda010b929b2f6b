#include "views/session/run_data.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace moescope::views {

void RunData::reset(const policy::MoeShape& shape) {
  trace_ = {};
  trace_.shape = shape;
  trace_.offsets = {0};
  tokens_.clear();
  entropy_.clear();
  stall_ns_.clear();
  compute_ns_.clear();
  has_compute_ = false;
  key_base_.assign(1, 0);
  max_experts_ = 0;
  max_top_k_ = 0;
  for (int32_t k : shape.top_k) max_top_k_ = std::max(max_top_k_, int(k));
  entropy_from_topk_ = false;
  for (int32_t n : shape.n_experts) {
    key_base_.push_back(key_base_.back() + n);
    max_experts_ = std::max(max_experts_, int(n));
  }
  activations_.assign(size_t(key_base_.back()), 0);
  max_activations_ = 0;
  total_stall_ns_ = 0;
  prompt_count_ = 0;
  analysis_.reset();
  gate_predictions_.clear();
}

void RunData::apply(const RunDelta& d) {
  for (const TokenInfo& t : d.tokens) {
    if (!t.generated && prompt_count_ == token_count()) ++prompt_count_;
    tokens_.push_back(t);
  }
  if (!d.tail_text.isEmpty() && !tokens_.empty()) tokens_.back().text += d.tail_text;
  if (d.entropy_from_topk) entropy_from_topk_ = true;
  for (const GatePrediction& g : d.gate_predictions) {
    gate_predictions_[{TokenPos(g.token), g.layer}] = g.experts;
  }

  const int L = n_layers();
  const bool with_compute = d.compute_ns.size() == d.n_routed() * size_t(L);
  size_t sel = 0;
  for (size_t i = 0; i < d.n_routed(); ++i) {
    const int t = routed_count();
    trace_.phase.push_back(d.phase[i]);
    trace_.token_id.push_back(t < token_count() ? tokens_[size_t(t)].id : -1);
    const int64_t stall = d.stall_ns[i];
    stall_ns_.push_back(stall);
    if (stall > 0) total_stall_ns_ += stall;
    for (int l = 0; l < L; ++l) {
      const size_t row = i * size_t(L) + size_t(l);
      for (int32_t r = 0; r < d.k[row]; ++r, ++sel) {
        const ExpertId e = d.experts[sel];
        trace_.selected.push_back(e);
        trace_.weights.push_back(d.weights[sel]);
        int64_t& count = activations_[key(l, e.value)];
        max_activations_ = std::max(max_activations_, ++count);
      }
      trace_.offsets.push_back(int64_t(trace_.selected.size()));
      entropy_.push_back(d.entropy_bits[row]);
      const int64_t compute = with_compute ? std::max<int64_t>(0, d.compute_ns[row]) : 0;
      compute_ns_.push_back(compute);
      if (compute > 0) has_compute_ = true;
    }
  }
  // A token id known only now (the routing came first) is filled in.
  for (int t = 0; t < std::min(routed_count(), token_count()); ++t) {
    if (trace_.token_id[size_t(t)] < 0) trace_.token_id[size_t(t)] = tokens_[size_t(t)].id;
  }
}

policy::RoutingTrace RunData::routing_trace_with_compute() const {
  policy::RoutingTrace out = trace_;
  out.compute_ns = compute_ns_;
  return out;
}

double RunData::max_entropy_bits() const {
  const int n = entropy_from_topk_ ? max_top_k_ : max_experts_;
  return n > 1 ? std::log2(double(n)) : 0.0;
}

std::span<const ExpertId> RunData::experts(int t, int l) const {
  const size_t i = index(t, l);
  return {trace_.selected.data() + trace_.offsets[i],
          trace_.selected.data() + trace_.offsets[i + 1]};
}

std::span<const float> RunData::weights(int t, int l) const {
  const size_t i = index(t, l);
  return {trace_.weights.data() + trace_.offsets[i], trace_.weights.data() + trace_.offsets[i + 1]};
}

int RunData::rank_of(int t, int l, int e) const {
  const auto sel = experts(t, l);
  for (size_t r = 0; r < sel.size(); ++r) {
    if (sel[r].value == e) return int(r);
  }
  return -1;
}

}  // namespace moescope::views
