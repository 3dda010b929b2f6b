// Random eviction with a seeded generator, so that a run is reproducible.
#include <random>
#include <vector>

#include "engine/policy/policies.h"

namespace moescope::policy {

namespace {

class RandomPolicy : public CachePolicy {
 public:
  explicit RandomPolicy(uint64_t seed) : seed_(seed) {}

  void reset(const MoeShape& shape, const CacheCapacity& capacity) override {
    shape_ = shape;
    capacity_ = capacity;
    rng_.seed(seed_);
    members_.assign(size_t(capacity.n_partitions(shape_)), {});
    slot_.assign(size_t(shape_.total_experts()), -1);
  }
  void on_access(ExpertKey, int64_t, bool) override {}
  std::optional<ExpertKey> choose_victim(const VictimQuery& q) override {
    const auto& m = members_[partition(q)];
    if (m.empty()) return std::nullopt;
    // Uniform over the unpinned members: draw, and on a pinned one walk to the next unpinned.
    const size_t start = size_t(rng_() % m.size());
    for (size_t i = 0; i < m.size(); ++i) {
      const ExpertKey k = m[(start + i) % m.size()];
      if (!is_pinned(q.pinned, k)) return k;
    }
    return std::nullopt;
  }
  void on_insert(ExpertKey key, bool) override {
    auto& m = members_[capacity_.partition_of(key.layer)];
    slot_[shape_.key_index(key)] = int64_t(m.size());
    m.push_back(key);
  }
  void on_evict(ExpertKey key) override {
    auto& m = members_[capacity_.partition_of(key.layer)];
    const int64_t i = slot_[shape_.key_index(key)];
    const ExpertKey last = m.back();
    m[size_t(i)] = last;
    slot_[shape_.key_index(last)] = i;
    m.pop_back();
    slot_[shape_.key_index(key)] = -1;
  }

 private:
  size_t partition(const VictimQuery& q) const {
    return q.scope ? size_t(capacity_.partition_of(*q.scope)) : 0;
  }

  uint64_t seed_;
  MoeShape shape_;
  CacheCapacity capacity_;
  std::mt19937_64 rng_;
  std::vector<std::vector<ExpertKey>> members_;  // [partition] resident keys
  std::vector<int64_t> slot_;                    // [total experts] index in members_, or -1
};

}  // namespace

std::unique_ptr<CachePolicy> make_random(uint64_t seed) {
  return std::make_unique<RandomPolicy>(seed);
}

}  // namespace moescope::policy
