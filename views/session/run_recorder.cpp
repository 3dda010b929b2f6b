#include "views/session/run_recorder.h"

#include <chrono>
#include <limits>

#include "engine/model/router_probe.h"

#include "views/session/router_entropy.h"

namespace moescope::views {
namespace {

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

RunRecorder::RunRecorder(policy::MoeShape shape, GatingFunc gating)
    : shape_(std::move(shape)), n_layers_(shape_.n_layers()), gating_(gating) {}

RunRecorder::~RunRecorder() = default;

void RunRecorder::enable_next_gate(Model& model, int32_t distance, int32_t k_prime,
                                   std::vector<int32_t> top_k) {
  top_k_ = std::move(top_k);
  probe_ = std::make_unique<RouterProbe>(model);
  gate_distance_ = distance;
  gate_k_prime_ = k_prime;
}

void RunRecorder::add_token(TokenInfo token) {
  std::lock_guard lock(mu_);
  pending_.tokens.push_back(std::move(token));
}

void RunRecorder::add_tail_text(const QString& text) {
  std::lock_guard lock(mu_);
  if (!pending_.tokens.empty()) {
    pending_.tokens.back().text += text;
  } else {
    pending_.tail_text += text;
  }
}

void RunRecorder::on_forward_begin(TokenPos first, int n_tokens) {
  forward_first_ = first.value;
  forward_tokens_ = n_tokens;
  cells_.assign(size_t(n_tokens) * size_t(n_layers_), Cell{});
  clock_.begin(n_layers_);
}

void RunRecorder::on_routing(const MoeRoutingEvent& ev) {
  const std::optional<MoeLayerId> moe = shape_.moe_layer(ev.layer);
  const int u = ev.pos.value - forward_first_;
  if (!moe || u < 0 || u >= forward_tokens_) return;
  const int l = moe->value;
  if (u == 0) clock_.layer(l, now_ns(), stall_source_ ? stall_source_() : 0);
  Cell& c = cells_[size_t(u) * size_t(n_layers_) + size_t(l)];
  c.experts.assign(ev.experts.begin(), ev.experts.end());
  c.weights.assign(ev.weights.begin(), ev.weights.end());
  if (!ev.router_logits.empty()) {
    c.entropy = router_entropy_bits(ev.router_logits, gating_);
  } else {
    c.entropy = topk_weight_entropy_bits(ev.weights);
    topk_entropy_ = true;
  }
  c.seen = true;
  // The store speculates in decode only (one token per forward), within the token.
  const int32_t target = l + gate_distance_;
  if (probe_ && forward_tokens_ == 1 && target < n_layers_ && !ev.hidden.empty()) {
    GatePrediction g;
    g.token = ev.pos.value;
    g.layer = MoeLayerId(target);
    const int32_t k = gate_k_prime_ > 0 ? gate_k_prime_ : top_k_[size_t(target)];
    probe_->top_experts(shape_.block(g.layer), ev.hidden, k, g.experts);
    forward_predictions_.push_back(std::move(g));
  }
}

void RunRecorder::on_forward_end() {
  const int64_t end = now_ns();
  int64_t stall = -1, total = 0;
  if (stall_source_) {
    total = stall_source_();
    stall = total - stall_seen_;
    stall_seen_ = total;
  }
  clock_.finish(end, total, layer_ns_, layer_stall_ns_);
  std::lock_guard lock(mu_);
  for (int u = 0; u < forward_tokens_; ++u) {
    pending_.phase.push_back(forward_tokens_ > 1 ? policy::Phase::kPrefill
                                                 : policy::Phase::kDecode);
    // A forward's stall is booked on its first token, as the cache counters book a prefill chunk.
    pending_.stall_ns.push_back(stall < 0 ? -1 : (u == 0 ? stall : 0));
    for (int l = 0; l < n_layers_; ++l) {
      const Cell& c = cells_[size_t(u) * size_t(n_layers_) + size_t(l)];
      pending_.k.push_back(int32_t(c.experts.size()));
      pending_.experts.insert(pending_.experts.end(), c.experts.begin(), c.experts.end());
      pending_.weights.insert(pending_.weights.end(), c.weights.begin(), c.weights.end());
      pending_.entropy_bits.push_back(c.seen ? c.entropy : std::numeric_limits<float>::quiet_NaN());
      // The call's layer compute (interval - stall) on its first token, as the trace books it.
      pending_.compute_ns.push_back(u == 0 ? layer_ns_[size_t(l)] - layer_stall_ns_[size_t(l)] : 0);
    }
  }
  if (topk_entropy_) pending_.entropy_from_topk = true;
  for (GatePrediction& g : forward_predictions_) pending_.gate_predictions.push_back(std::move(g));
  forward_predictions_.clear();
  routed_total_ += forward_tokens_;
  forward_tokens_ = 0;
}

RunDelta RunRecorder::take() {
  std::lock_guard lock(mu_);
  RunDelta out;
  std::swap(out, pending_);
  return out;
}

int RunRecorder::routed_total() const {
  std::lock_guard lock(mu_);
  return routed_total_;
}

}  // namespace moescope::views
