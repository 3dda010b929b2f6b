// ARC (Megiddo & Modha, FAST 2003) over (layer, expert) keys: T1/T2 hold resident entries seen
// once / at least twice recently, B1/B2 remember recently evicted ones, and the target size p of
// T1 adapts on ghost hits. One ARC per partition (per layer, or one for the global pool). In a
// byte pool c is the number of experts of mean size that fit.
#include <algorithm>
#include <array>
#include <vector>

#include "engine/policy/policies.h"

namespace moescope::policy {

namespace {

enum List : uint8_t { kNone = 0, kT1, kT2, kB1, kB2, kListCount };

class Arc : public CachePolicy {
 public:
  void reset(const MoeShape& shape, const CacheCapacity& capacity) override {
    shape_ = shape;
    capacity_ = capacity;
    const size_t n_keys = size_t(shape_.total_experts());
    list_.assign(n_keys, kNone);
    prev_.assign(n_keys, -1);
    next_.assign(n_keys, -1);
    parts_.assign(size_t(capacity.n_partitions(shape_)), Partition{});
    part_of_.resize(n_keys);
    for (size_t i = 0; i < n_keys; ++i)
      part_of_[i] = capacity.partition_of(shape_.key_at(int64_t(i)).layer);
    for (size_t p = 0; p < parts_.size(); ++p)
      parts_[p].c = capacity.pool == PoolKind::kPerLayer ? double(capacity.layer_slots[p])
                                                         : double(capacity.total_slots(shape_));
  }

  void on_access(ExpertKey key, int64_t, bool resident) override {
    const int64_t x = shape_.key_index(key);
    Partition& P = part(key);
    pending_ = -1;
    drop_t1_ = false;
    if (resident) {  // Case I: hit in T1 or T2
      unlink(x);
      push_mru(P, kT2, x);
      return;
    }
    pending_ = x;
    from_b2_ = list_[x] == kB2;
    if (list_[x] == kB1) {  // Case II
      P.p = std::min(P.c, P.p + std::max(double(P.size[kB2]) / double(P.size[kB1]), 1.0));
    } else if (list_[x] == kB2) {  // Case III
      P.p = std::max(0.0, P.p - std::max(double(P.size[kB1]) / double(P.size[kB2]), 1.0));
    } else {  // Case IV
      trim_for_new(P);
    }
  }

  std::optional<ExpertKey> choose_victim(const VictimQuery& q) override {
    Partition& P = part(q.incoming);
    const int64_t x = shape_.key_index(q.incoming);
    const bool x_in_b2 = !q.for_prefetch && x == pending_ && from_b2_;
    // REPLACE(x, p)
    const double t1 = double(P.size[kT1]);
    List first = (P.size[kT1] > 0 && (t1 > P.p || (x_in_b2 && t1 == P.p))) ? kT1 : kT2;
    if (drop_t1_) first = kT1;
    for (List l : {first, first == kT1 ? kT2 : kT1}) {
      for (int64_t k = P.tail[l]; k >= 0; k = prev_[k]) {
        const ExpertKey key = shape_.key_at(k);
        if (!is_pinned(q.pinned, key)) return key;
      }
    }
    return std::nullopt;
  }

  void on_insert(ExpertKey key, bool prefetch) override {
    const int64_t x = shape_.key_index(key);
    Partition& P = part(key);
    if (prefetch) {
      // Not a request: no adaptation, and a remembered key comes back as new. bound_ghosts
      // below keeps the directory within its limits.
      unlink(x);
      push_mru(P, kT1, x);
    } else {
      const bool ghost_hit = list_[x] == kB1 || list_[x] == kB2;
      unlink(x);
      push_mru(P, ghost_hit ? kT2 : kT1, x);
    }
    pending_ = -1;
    drop_t1_ = false;
    bound_ghosts(P);
  }

  void on_evict(ExpertKey key) override {
    const int64_t x = shape_.key_index(key);
    Partition& P = part(key);
    const List from = List(list_[x]);
    unlink(x);
    if (from == kT1 && drop_t1_) {
      drop_t1_ = false;  // Case IV(A) with T1 full: the page leaves without a ghost
    } else {
      push_mru(P, from == kT1 ? kB1 : kB2, x);
    }
    bound_ghosts(P);
  }

 private:
  struct Partition {
    double c = 0;
    double p = 0;
    std::array<int64_t, kListCount> head{-1, -1, -1, -1, -1};  // MRU
    std::array<int64_t, kListCount> tail{-1, -1, -1, -1, -1};  // LRU
    std::array<int64_t, kListCount> size{};
  };

  Partition& part(ExpertKey k) { return parts_[size_t(capacity_.partition_of(k.layer))]; }

  // Case IV bookkeeping before a brand-new key enters.
  void trim_for_new(Partition& P) {
    const double l1 = double(P.size[kT1] + P.size[kB1]);
    if (l1 >= P.c) {
      if (double(P.size[kT1]) < P.c)
        drop_lru(P, kB1);
      else
        drop_t1_ = true;
    } else {
      const double total = double(P.size[kT1] + P.size[kT2] + P.size[kB1] + P.size[kB2]);
      if (total >= 2 * P.c) drop_lru(P, kB2);
    }
  }

  // Keeps |T1| + |B1| <= c and the directory <= 2c when byte pools or prefetches push past the
  // paper's invariants (never triggers in the paper's setting).
  void bound_ghosts(Partition& P) {
    while (double(P.size[kT1] + P.size[kB1]) > P.c && P.size[kB1] > 0) drop_lru(P, kB1);
    while (double(P.size[kT1] + P.size[kT2] + P.size[kB1] + P.size[kB2]) > 2 * P.c &&
           P.size[kB2] > 0)
      drop_lru(P, kB2);
  }

  void drop_lru(Partition& P, List l) {
    if (P.tail[l] >= 0) unlink(P.tail[l]);
  }

  void push_mru(Partition& P, List l, int64_t x) {
    list_[x] = l;
    prev_[x] = -1;
    next_[x] = P.head[l];
    if (P.head[l] >= 0) prev_[P.head[l]] = x;
    P.head[l] = x;
    if (P.tail[l] < 0) P.tail[l] = x;
    ++P.size[l];
  }

  void unlink(int64_t x) {
    const List l = List(list_[x]);
    if (l == kNone) return;
    Partition& P = parts_[size_t(part_of_[x])];
    if (prev_[x] >= 0)
      next_[prev_[x]] = next_[x];
    else
      P.head[l] = next_[x];
    if (next_[x] >= 0)
      prev_[next_[x]] = prev_[x];
    else
      P.tail[l] = prev_[x];
    prev_[x] = next_[x] = -1;
    list_[x] = kNone;
    --P.size[l];
  }

  MoeShape shape_;
  CacheCapacity capacity_;
  std::vector<uint8_t> list_;  // [total experts] List
  std::vector<int64_t> prev_;  // [total experts] towards MRU
  std::vector<int64_t> next_;  // [total experts] towards LRU
  std::vector<Partition> parts_;
  std::vector<int32_t> part_of_;  // [total experts] partition of each key
  int64_t pending_ = -1;          // the key of the miss being handled
  bool from_b2_ = false;
  bool drop_t1_ = false;
};

}  // namespace

std::unique_ptr<CachePolicy> make_arc() {
  return std::make_unique<Arc>();
}

}  // namespace moescope::policy
