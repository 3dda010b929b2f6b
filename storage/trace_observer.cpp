#include "storage/trace_observer.h"

#include <algorithm>
#include <utility>

#include "engine/common/error.h"
#include "engine/model/router_probe.h"
#include "engine/model/routing_trace_recorder.h"
#include "storage/router_candidates.h"

namespace moescope::storage {

TraceObserver::TraceObserver(TraceWriter& writer) : writer_(writer) {}

TraceObserver::~TraceObserver() = default;

void TraceObserver::enable_next_gate(Model& model, int32_t distance, int32_t k_prime) {
  if (distance < 1) fail("next-gate distance {} must be at least 1", distance);
  probe_ = std::make_unique<RouterProbe>(model);
  gate_distance_ = distance;
  gate_k_prime_ = k_prime;
  writer_.set_records_gate_predictions(true);
}

void TraceObserver::enable_router_candidates(GatingFunc gating) {
  candidates_gating_ = gating;
}

void TraceObserver::set_next_step(int32_t first_pos, std::vector<int32_t> requests) {
  step_first_pos_ = first_pos;
  step_requests_ = std::move(requests);
}

void TraceObserver::on_forward_begin(TokenPos first, int n_tokens) {
  active_ = writer_.recording() && n_tokens > 0;
  call_first_ = first.value;
  const std::optional<int32_t> step_first = std::exchange(step_first_pos_, std::nullopt);
  if (active_) {
    const policy::MoeShape& shape = writer_.shape();
    if (shape.n_layers() != n_layers_ || shape.total_experts() != total_experts_ ||
        key_base_.empty()) {
      n_layers_ = shape.n_layers();
      total_experts_ = shape.total_experts();
      k_max_ = std::max(1, *std::max_element(shape.top_k.begin(), shape.top_k.end()));
      key_base_.assign(size_t(n_layers_), 0);
      int64_t base = 0;
      for (int32_t m = 0; m < n_layers_; ++m) {
        key_base_[size_t(m)] = base;
        base += shape.n_experts[size_t(m)];
      }
    }
    full_logits_ = writer_.options().router_logits;
    const size_t cells = size_t(n_tokens) * size_t(n_layers_);
    rec_.first_pos = step_first.value_or(first.value);
    rec_.n_tokens = n_tokens;
    rec_.requests.clear();
    if (step_first) {
      if (step_requests_.size() != size_t(n_tokens)) {
        fail("trace: a batched step of {} rows names {} requests", n_tokens, step_requests_.size());
      }
      rec_.requests = std::move(step_requests_);
    }
    rec_.phase = phase_override_ ? *phase_override_
                 : n_tokens > 1  ? Phase::kPrefill
                                 : Phase::kDecode;
    rec_.n_layers = n_layers_;
    rec_.k_max = k_max_;
    rec_.count.assign(cells, 0);
    rec_.gate_predictions.clear();
    rec_.experts.resize(cells * size_t(k_max_));
    rec_.weights.resize(cells * size_t(k_max_));
    rec_.logits.resize(cells * size_t(k_max_));
    if (full_logits_) rec_.full_logits.assign(size_t(n_tokens) * size_t(total_experts_), 0.0f);
    if (candidates_gating_) {
      candidate_offsets_ = router_candidate_offsets(shape);
      const size_t slots = size_t(n_tokens) * size_t(candidate_offsets_.back());
      rec_.candidates.assign(slots, ExpertId(0));
      rec_.candidate_scores.assign(slots, 0.0f);
    }
    clock_.begin(n_layers_);
    stall_begin_ = stall_now();
    rec_.start_ns = writer_.now_ns();
  }
  if (next_ != nullptr) next_->on_forward_begin(first, n_tokens);
}

void TraceObserver::on_routing(const MoeRoutingEvent& ev) {
  const std::optional<MoeLayerId> moe =
      active_ ? writer_.shape().moe_layer(ev.layer) : std::nullopt;
  if (moe) {
    const int32_t m = moe->value;
    const int32_t t = ev.pos.value - call_first_;
    if (t < 0 || t >= rec_.n_tokens) {
      fail("trace: routing for position {} outside the forward call [{}, {})", ev.pos.value,
           call_first_, call_first_ + rec_.n_tokens);
    }
    if (t == 0) clock_.layer(m, writer_.now_ns(), stall_now());
    const size_t n = ev.experts.size();
    if (n > size_t(k_max_) || ev.weights.size() != n) {
      fail("trace: block {} selected {} experts, more than the model's {}", ev.layer.value, n,
           k_max_);
    }
    const size_t cell = size_t(t) * size_t(n_layers_) + size_t(m);
    const size_t at = cell * size_t(k_max_);
    rec_.count[cell] = uint8_t(n);
    for (size_t i = 0; i < n; ++i) {
      const ExpertId e = ev.experts[i];
      rec_.experts[at + i] = e;
      rec_.weights[at + i] = ev.weights[i];
      rec_.logits[at + i] =
          size_t(e.value) < ev.router_logits.size() ? ev.router_logits[size_t(e.value)] : 0.0f;
    }
    if (full_logits_) {
      const auto n_exp = size_t(m + 1 < n_layers_ ? key_base_[size_t(m) + 1] : total_experts_) -
                         size_t(key_base_[size_t(m)]);
      std::copy_n(ev.router_logits.begin(), std::min(n_exp, ev.router_logits.size()),
                  rec_.full_logits.begin() + t * total_experts_ + key_base_[size_t(m)]);
    }
    if (candidates_gating_) {
      const auto ne = size_t(writer_.shape().n_experts[size_t(m)]);
      if (ev.router_logits.size() != ne) {
        fail("trace: block {} reported {} router logits for {} experts", ev.layer.value,
             ev.router_logits.size(), ne);
      }
      probs_.resize(ne);
      router_distribution(*candidates_gating_, ev.router_logits, probs_);
      const size_t at =
          size_t(t) * size_t(candidate_offsets_.back()) + size_t(candidate_offsets_[size_t(m)]);
      top_router_candidates(
          probs_, int32_t(candidate_offsets_[size_t(m) + 1] - candidate_offsets_[size_t(m)]),
          rec_.candidates.data() + at, rec_.candidate_scores.data() + at);
    }
    // The store speculates in decode only, for targets within the token (expert_store.cpp).
    const int32_t target = m + gate_distance_;
    if (probe_ && rec_.phase == Phase::kDecode && target < n_layers_ && !ev.hidden.empty()) {
      const policy::MoeShape& shape = writer_.shape();
      GatePrediction& g = rec_.gate_predictions.emplace_back();
      g.pos = rec_.first_pos + t;
      g.layer = MoeLayerId(target);
      const int32_t k = gate_k_prime_ > 0 ? gate_k_prime_ : shape.top_k[size_t(target)];
      probe_->top_experts(shape.block(g.layer), ev.hidden, k, g.experts);
    }
  }
  if (next_ != nullptr) next_->on_routing(ev);
}

void TraceObserver::on_forward_end() {
  if (active_) {
    active_ = false;
    rec_.end_ns = writer_.now_ns();
    const int64_t stall_end = stall_now();
    rec_.stall_ns = stall_end - stall_begin_;
    clock_.finish(rec_.end_ns, stall_end, rec_.layer_ns, rec_.layer_stall_ns);
    ForwardRecord done = std::move(rec_);
    rec_ = ForwardRecord{};
    writer_.forward(std::move(done));
  }
  if (next_ != nullptr) next_->on_forward_end();
}

}  // namespace moescope::storage
