// LFU with aging: every (l, e) keeps a count of its accesses, multiplied by gamma at each token.
// Instead of rescaling every count per token, an access adds g = gamma^-tokens, which keeps the
// order (all counts share the factor); counts are renormalised before g overflows.
#include <algorithm>
#include <cmath>

#include "engine/common/error.h"
#include "engine/policy/policies.h"
#include "engine/policy/ranked_policy.h"

namespace moescope::policy {

namespace {

class Lfu : public RankedPolicy {
 public:
  explicit Lfu(double gamma) : gamma_(gamma) {}

  void on_reset() override {
    count_.assign(size_t(shape_.total_experts()), 0.0);
    increment_ = 1;
    tokens_seen_ = 0;
  }
  void on_step(const StepInfo& step) override {
    const int64_t end = int64_t(step.first_token.value) + step.n_tokens;
    if (tokens_seen_ > 0 && gamma_ < 1)
      for (int64_t t = tokens_seen_; t < end; ++t) age_one_token();
    tokens_seen_ = std::max(tokens_seen_, end);
  }
  void on_access(ExpertKey key, int64_t, bool resident) override {
    ++tick_;
    count_[shape_.key_index(key)] += increment_;
    if (resident) rerank(key);
  }
  void on_insert(ExpertKey key, bool) override {
    ++tick_;
    rerank(key);
  }

 private:
  void rerank(ExpertKey key) { ranks_.set(key, {count_[shape_.key_index(key)], tick_}); }

  void age_one_token() {
    increment_ /= gamma_;
    if (increment_ < 1e150) return;
    for (double& c : count_) c /= increment_;
    increment_ = 1;
    // Every rank changed by the same factor; re-insert so that stored ranks stay exact.
    for (int64_t i = 0; i < shape_.total_experts(); ++i) {
      const ExpertKey k = shape_.key_at(i);
      if (ranks_.contains(k)) ranks_.set(k, {count_[i], ranks_.rank(k).secondary});
    }
  }

  double gamma_;
  std::vector<double> count_;  // [total experts] scaled by increment_
  double increment_ = 1;       // gamma^-(tokens so far)
  int64_t tokens_seen_ = 0;
};

}  // namespace

std::unique_ptr<CachePolicy> make_lfu(double gamma) {
  if (!(gamma > 0 && gamma <= 1)) fail("the LFU aging factor must be in (0, 1], not {}", gamma);
  return std::make_unique<Lfu>(gamma);
}

}  // namespace moescope::policy
