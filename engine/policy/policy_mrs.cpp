// MRS (HybriMoE): per token and layer, S[l,e] <- alpha * p[l,e] * [e in top-2k] + (1-alpha) *
// S[l,e]; evict the minimum S, ties by LRU. p is the router probability; without recorded
// probabilities the top-k mixing weights stand in (then only k experts score). The decay of a whole
// layer is kept as one factor per layer, so an update touches only the 2k scored experts.
#include <algorithm>
#include <numeric>
#include <vector>

#include "engine/common/error.h"
#include "engine/policy/policies.h"
#include "engine/policy/ranked_policy.h"

namespace moescope::policy {

namespace {

class Mrs : public RankedPolicy {
 public:
  explicit Mrs(double alpha) : alpha_(alpha) {}

  void on_reset() override {
    stored_.assign(size_t(shape_.total_experts()), 0.0);
    scale_.assign(size_t(shape_.n_layers()), 1.0);
  }

  void on_router(TokenPos, MoeLayerId l, const TokenLayerRouting& r) override {
    decay(l);
    const int32_t n = shape_.experts(l);
    if (!r.probs.empty()) {
      const int32_t top = std::min(n, 2 * shape_.top_k[l.value]);
      order_.resize(size_t(n));
      std::iota(order_.begin(), order_.end(), 0);
      std::partial_sort(order_.begin(), order_.begin() + top, order_.end(),
                        [&](int32_t a, int32_t b) {
                          return r.probs[a] != r.probs[b] ? r.probs[a] > r.probs[b] : a < b;
                        });
      for (int32_t i = 0; i < top; ++i) add(l, order_[i], r.probs[order_[i]]);
    } else {
      for (size_t i = 0; i < r.experts.size(); ++i) add(l, r.experts[i].value, r.weights[i]);
    }
  }

  void on_access(ExpertKey key, int64_t, bool resident) override {
    ++tick_;
    if (resident) rerank(key);
  }
  void on_insert(ExpertKey key, bool) override {
    ++tick_;
    rerank(key);
  }
  std::optional<ExpertKey> choose_victim(const VictimQuery& q) override {
    return ranks_.min_in_scope(q.scope, q.pinned, scale_);
  }

 private:
  // True score = stored_ * scale_[layer].
  void decay(MoeLayerId l) {
    double& s = scale_[l.value];
    s *= 1 - alpha_;
    if (s > 1e-200) return;
    // Fold the factor into the layer's scores (alpha = 1 forgets everything).
    const int64_t base = shape_.key_index({l, ExpertId(0)});
    for (int32_t e = 0; e < shape_.experts(l); ++e) stored_[base + e] *= s;
    s = 1;
    for (int32_t e = 0; e < shape_.experts(l); ++e)
      if (ranks_.contains({l, ExpertId(e)}))
        rerank({l, ExpertId(e)}, ranks_.rank({l, ExpertId(e)}).secondary);
  }
  void add(MoeLayerId l, int32_t e, float p) {
    const ExpertKey key{l, ExpertId(e)};
    stored_[shape_.key_index(key)] += alpha_ * double(p) / scale_[l.value];
    if (ranks_.contains(key)) rerank(key, ranks_.rank(key).secondary);
  }
  void rerank(ExpertKey key) { rerank(key, tick_); }
  void rerank(ExpertKey key, int64_t last_use) {
    ranks_.set(key, {stored_[shape_.key_index(key)], last_use});
  }

  double alpha_;
  std::vector<double> stored_;  // [total experts]
  std::vector<double> scale_;   // [n_layers]
  std::vector<int32_t> order_;
};

}  // namespace

std::unique_ptr<CachePolicy> make_mrs(double alpha) {
  if (!(alpha > 0 && alpha <= 1)) fail("the MRS factor alpha must be in (0, 1], not {}", alpha);
  return std::make_unique<Mrs>(alpha);
}

}  // namespace moescope::policy
