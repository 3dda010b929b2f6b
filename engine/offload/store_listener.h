#pragma once
// Internal to the expert store: what the decision core loaded and evicted during one step.
#include <cstdint>
#include <vector>

#include "engine/offload/expert_store.h"

namespace moescope::offload {

// Collects what the decision core did during one step, for reconcile().
class ExpertStore::Listener final : public policy::CacheListener {
 public:
  explicit Listener(const policy::MoeShape& shape)
      : seen(size_t(shape.total_experts()), 0),
        prefetched(size_t(shape.total_experts()), 0),
        demanded(size_t(shape.total_experts()), 0),
        shape_(shape) {}

  void on_load(ExpertKey key, bool prefetch, bool /*admitted*/) override {
    const int64_t k = touch(key);
    (prefetch ? prefetched : demanded)[size_t(k)] = 1;
  }
  void on_evict(ExpertKey key) override { touch(key); }
  void clear() {
    for (int64_t k : touched) seen[size_t(k)] = prefetched[size_t(k)] = demanded[size_t(k)] = 0;
    touched.clear();
  }

  std::vector<int64_t> touched;
  std::vector<uint8_t> seen, prefetched, demanded;  // [total experts]

 private:
  int64_t touch(ExpertKey key) {
    const int64_t k = shape_.key_index(key);
    if (!seen[size_t(k)]) {
      seen[size_t(k)] = 1;
      touched.push_back(k);
    }
    return k;
  }
  const policy::MoeShape& shape_;
};

}  // namespace moescope::offload
