// Recency-ordered policies: LRU, FIFO, least-stale and layer-lookahead LRU.
#include "engine/common/error.h"
#include "engine/policy/policies.h"
#include "engine/policy/ranked_policy.h"

namespace moescope::policy {

namespace {

class RecencyPolicy : public RankedPolicy {
 public:
  explicit RecencyPolicy(bool refresh_on_hit) : refresh_on_hit_(refresh_on_hit) {}

  void on_step(const StepInfo& step) override { current_layer_ = step.layer.value; }
  void on_access(ExpertKey key, int64_t, bool resident) override {
    ++tick_;
    if (resident && refresh_on_hit_) ranks_.set(key, {0, tick_});
  }
  void on_insert(ExpertKey key, bool) override { ranks_.set(key, {0, ++tick_}); }

 protected:
  bool refresh_on_hit_;
  int32_t current_layer_ = 0;
};

class LeastStale : public RecencyPolicy {
 public:
  LeastStale() : RecencyPolicy(true) {}
  std::optional<ExpertKey> choose_victim(const VictimQuery& q) override {
    // Within one layer's partition nothing is stale relative to the running layer: plain LRU.
    if (q.scope) return ranks_.min_in_layer(*q.scope, q.pinned);
    const int32_t cur = current_layer_;
    if (auto stale = ranks_.min_where([cur](int32_t l) { return l < cur; }, q.pinned)) return stale;
    return ranks_.min_in_scope(std::nullopt, q.pinned);
  }
};

class LayerLookahead : public RecencyPolicy {
 public:
  explicit LayerLookahead(int32_t window) : RecencyPolicy(true), window_(window) {}
  std::optional<ExpertKey> choose_victim(const VictimQuery& q) override {
    if (q.scope) return ranks_.min_in_layer(*q.scope, q.pinned);
    const int32_t cur = current_layer_, n = shape_.n_layers(), w = window_;
    // Layers [cur, cur + w) run next, wrapping into the next token's first layers.
    return ranks_.min_where([=](int32_t l) { return ((l - cur) % n + n) % n >= w; }, q.pinned);
  }

 private:
  int32_t window_;
};

}  // namespace

std::unique_ptr<CachePolicy> make_lru() {
  return std::make_unique<RecencyPolicy>(true);
}
std::unique_ptr<CachePolicy> make_fifo() {
  return std::make_unique<RecencyPolicy>(false);
}
std::unique_ptr<CachePolicy> make_least_stale() {
  return std::make_unique<LeastStale>();
}
std::unique_ptr<CachePolicy> make_layer_lookahead(int32_t window) {
  if (window < 1 || window > 4096)
    fail("the lookahead window must be 1..4096 layers, not {}", window);
  return std::make_unique<LayerLookahead>(window);
}

}  // namespace moescope::policy
