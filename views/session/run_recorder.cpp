#include "views/session/run_recorder.h"

#include <limits>

#include "views/session/router_entropy.h"

namespace moescope::views {

RunRecorder::RunRecorder(std::vector<int32_t> moe_index, int n_moe_layers, GatingFunc gating)
    : moe_index_(std::move(moe_index)), n_layers_(n_moe_layers), gating_(gating) {}

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
}

void RunRecorder::on_routing(const MoeRoutingEvent& ev) {
  const int block = ev.layer.value;
  if (block < 0 || block >= int(moe_index_.size())) return;
  const int l = moe_index_[size_t(block)];
  const int u = ev.pos.value - forward_first_;
  if (l < 0 || u < 0 || u >= forward_tokens_) return;
  Cell& c = cells_[size_t(u) * size_t(n_layers_) + size_t(l)];
  c.experts.assign(ev.experts.begin(), ev.experts.end());
  c.weights.assign(ev.weights.begin(), ev.weights.end());
  c.entropy = router_entropy_bits(ev.router_logits, gating_);
  c.seen = true;
}

void RunRecorder::on_forward_end() {
  int64_t stall = -1;
  if (stall_source_) {
    const int64_t total = stall_source_();
    stall = total - stall_seen_;
    stall_seen_ = total;
  }
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
    }
  }
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
