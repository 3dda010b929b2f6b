// Oracles that read the recorded future: Belady/OPT and SCH-window(m).
#include <limits>
#include <optional>
#include <vector>

#include "engine/common/error.h"
#include "engine/policy/future_index.h"
#include "engine/policy/policies.h"
#include "engine/policy/ranked_policy.h"

namespace moescope::policy {

namespace {

class Belady : public RankedPolicy {
 public:
  Belady(std::shared_ptr<const AccessStream> future, bool bypass)
      : stream_(std::move(future)), bypass_(bypass) {}

  void on_reset() override {
    future_.emplace(stream_, shape_);
    now_ = 0;
  }
  void on_access(ExpertKey key, int64_t seq, bool resident) override {
    future_->check(key, seq);
    now_ = seq + 1;  // the current access is being served whatever happens
    ++tick_;
    if (resident) ranks_.set(key, rank(key));
  }
  void on_insert(ExpertKey key, bool) override {
    ++tick_;
    ranks_.set(key, rank(key));
  }
  std::optional<ExpertKey> choose_victim(const VictimQuery& q) override {
    const std::optional<ExpertKey> victim = ranks_.min_in_scope(q.scope, q.pinned);
    if (!bypass_ || !victim) return victim;
    // Not admitting is the better choice when the newcomer is needed no sooner than the victim.
    if (rank(q.incoming).primary <= ranks_.rank(*victim).primary) return std::nullopt;
    return victim;
  }

 private:
  // Farther next use = smaller rank; never used again = -inf. Ties (only at -inf) by LRU.
  Rank rank(ExpertKey key) {
    const int64_t next = future_->next_use(key, now_);
    const double primary =
        next == FutureIndex::kNever ? -std::numeric_limits<double>::infinity() : -double(next);
    return {primary, tick_};
  }

  std::shared_ptr<const AccessStream> stream_;
  bool bypass_;
  std::optional<FutureIndex> future_;
  int64_t now_ = 0;
};

class Sch : public RankedPolicy {
 public:
  Sch(std::shared_ptr<const AccessStream> future, int32_t m) : stream_(std::move(future)), m_(m) {}

  void on_reset() override {
    future_.emplace(stream_, shape_);
    count_.assign(size_t(shape_.total_experts()), 0);
    entered_step_ = 0;
    entered_end_ = 0;
  }
  // The paper's segment [t, t + m): the running token t (the last one of a batched step) and
  // the m - 1 after it. Accesses of the running token leave the window as they are served.
  void on_step(const StepInfo& step) override {
    const int64_t horizon = int64_t(step.first_token.value) + step.n_tokens - 1 + m_ - 1;
    const AccessStream& s = *stream_;
    while (entered_step_ < s.steps.size() && s.steps[entered_step_].first_token.value <= horizon) {
      const AccessStep& st = s.steps[entered_step_++];
      for (int64_t i = st.begin; i < st.end; ++i) {
        const ExpertKey k = s.accesses[size_t(i)];
        ++count_[shape_.key_index(k)];
        if (ranks_.contains(k))
          ranks_.set(k, {double(count_[shape_.key_index(k)]), ranks_.rank(k).secondary});
      }
      entered_end_ = st.end;
    }
  }
  void on_access(ExpertKey key, int64_t seq, bool resident) override {
    future_->check(key, seq);
    if (seq < entered_end_) --count_[shape_.key_index(key)];  // it leaves the future window
    ++tick_;
    if (resident) rerank(key);
  }
  void on_insert(ExpertKey key, bool) override {
    ++tick_;
    rerank(key);
  }

 private:
  void rerank(ExpertKey key) { ranks_.set(key, {double(count_[shape_.key_index(key)]), tick_}); }

  std::shared_ptr<const AccessStream> stream_;
  int32_t m_;
  std::optional<FutureIndex> future_;
  std::vector<int64_t> count_;  // [total experts] accesses inside the window, after now
  size_t entered_step_ = 0;
  int64_t entered_end_ = 0;
};

}  // namespace

std::unique_ptr<CachePolicy> make_belady(std::shared_ptr<const AccessStream> future, bool bypass) {
  if (!future) fail("belady is an oracle: it needs the recorded access stream");
  return std::make_unique<Belady>(std::move(future), bypass);
}

std::unique_ptr<CachePolicy> make_sch(std::shared_ptr<const AccessStream> future, int32_t m) {
  if (!future) fail("sch is an oracle: it needs the recorded access stream");
  if (m < 1 || m > (1 << 24)) fail("the SCH window must be 1..16777216 tokens, not {}", m);
  return std::make_unique<Sch>(std::move(future), m);
}

}  // namespace moescope::policy
