// Policies with a fixed resident set: on-demand (empty), static-freq (most routed in an earlier
// trace), static-front/back (whole layers), stationary (most used over the recorded future).
// Pinned experts are admitted at their first use and never evicted; every other expert bypasses.
#include <algorithm>
#include <numeric>
#include <vector>

#include "engine/common/error.h"
#include "engine/policy/future_index.h"
#include "engine/policy/policies.h"

namespace moescope::policy {

namespace {

class PinnedPolicy : public CachePolicy {
 public:
  void reset(const MoeShape& shape, const CacheCapacity& capacity) override {
    shape_ = shape;
    pinned_.assign(size_t(shape_.total_experts()), 0);
    choose(capacity);
  }
  void on_access(ExpertKey, int64_t, bool) override {}
  bool admit(ExpertKey key, bool) override { return pinned_[shape_.key_index(key)] != 0; }
  std::optional<ExpertKey> choose_victim(const VictimQuery&) override { return std::nullopt; }
  void on_insert(ExpertKey, bool) override {}
  void on_evict(ExpertKey) override {}

 protected:
  virtual void choose(const CacheCapacity& capacity) = 0;

  // Pins the highest-count experts: top c_l of each layer, or greedily over all layers while they
  // fit in the global pool. Ties go to the lower (layer, expert); never-used experts stay out.
  void pin_top(const std::vector<int64_t>& count, const CacheCapacity& capacity) {
    std::vector<int64_t> order(count.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](int64_t a, int64_t b) { return count[a] > count[b]; });
    std::vector<uint64_t> room(static_cast<size_t>(capacity.n_partitions(shape_)));
    for (size_t p = 0; p < room.size(); ++p) room[p] = capacity.partition_capacity(int32_t(p));
    for (int64_t i : order) {
      if (count[i] == 0) break;
      const MoeLayerId l = shape_.key_at(i).layer;
      uint64_t& r = room[size_t(capacity.partition_of(l))];
      const uint64_t w = capacity.weight(shape_, l);
      if (w > r) continue;
      r -= w;
      pinned_[i] = 1;
    }
  }

  MoeShape shape_;
  std::vector<uint8_t> pinned_;  // [total experts]
};

class OnDemand : public PinnedPolicy {
  void choose(const CacheCapacity&) override {}
};

class StaticFreq : public PinnedPolicy {
 public:
  explicit StaticFreq(std::vector<int64_t> count, MoeShape history_shape)
      : count_(std::move(count)), history_shape_(std::move(history_shape)) {}
  void choose(const CacheCapacity& capacity) override {
    if (!(history_shape_.n_experts == shape_.n_experts))
      fail("static-freq's trace has a different expert layout than the model");
    pin_top(count_, capacity);
  }

 private:
  std::vector<int64_t> count_;
  MoeShape history_shape_;
};

class StaticLayers : public PinnedPolicy {
 public:
  explicit StaticLayers(bool back) : back_(back) {}
  void choose(const CacheCapacity& capacity) override {
    const int32_t L = shape_.n_layers();
    uint64_t global_room = capacity.global;
    for (int32_t i = 0; i < L; ++i) {
      const MoeLayerId l(back_ ? L - 1 - i : i);
      const uint64_t need = capacity.weight(shape_, l) * uint64_t(shape_.experts(l));
      if (capacity.pool == PoolKind::kGlobal) {
        if (need > global_room) break;  // whole layers only, contiguous from the chosen end
        global_room -= need;
      } else if (need > uint64_t(capacity.layer_slots[l.value])) {
        continue;
      }
      const int64_t base = shape_.key_index({l, ExpertId(0)});
      std::fill_n(pinned_.begin() + base, shape_.experts(l), 1);
    }
  }

 private:
  bool back_;
};

class Stationary : public PinnedPolicy {
 public:
  explicit Stationary(std::shared_ptr<const AccessStream> future) : future_(std::move(future)) {}
  void choose(const CacheCapacity& capacity) override {
    pin_top(FutureIndex(future_, shape_).counts(), capacity);
  }

 private:
  std::shared_ptr<const AccessStream> future_;
};

}  // namespace

std::unique_ptr<CachePolicy> make_on_demand() {
  return std::make_unique<OnDemand>();
}

std::unique_ptr<CachePolicy> make_static_freq(const RoutingTrace& history) {
  std::vector<int64_t> count(size_t(history.shape.total_experts()), 0);
  for (int64_t t = 0; t < history.n_tokens(); ++t)
    for (int32_t l = 0; l < history.n_layers(); ++l)
      for (ExpertId e : history.experts(TokenPos(int32_t(t)), MoeLayerId(l)))
        ++count[history.shape.key_index({MoeLayerId(l), e})];
  return std::make_unique<StaticFreq>(std::move(count), history.shape);
}

std::unique_ptr<CachePolicy> make_static_layers(bool back) {
  return std::make_unique<StaticLayers>(back);
}

std::unique_ptr<CachePolicy> make_stationary(std::shared_ptr<const AccessStream> future) {
  if (!future) fail("stationary is an oracle: it needs the recorded access stream");
  return std::make_unique<Stationary>(std::move(future));
}

}  // namespace moescope::policy
