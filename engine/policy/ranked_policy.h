#pragma once
// Base of the policies that rank every resident entry and evict the minimum.
#include "engine/policy/policy.h"
#include "engine/policy/rank_index.h"

namespace moescope::policy {

class RankedPolicy : public CachePolicy {
 public:
  void reset(const MoeShape& shape, const CacheCapacity& capacity) override {
    shape_ = shape;
    capacity_ = capacity;
    ranks_.reset(shape_);
    tick_ = 0;
    on_reset();
  }
  std::optional<ExpertKey> choose_victim(const VictimQuery& q) override {
    return ranks_.min_in_scope(q.scope, q.pinned);
  }
  void on_evict(ExpertKey key) override { ranks_.erase(key); }

 protected:
  virtual void on_reset() {}

  MoeShape shape_;
  CacheCapacity capacity_;
  RankIndex ranks_;
  int64_t tick_ = 0;  // increases at every access and insertion: recency
};

}  // namespace moescope::policy
