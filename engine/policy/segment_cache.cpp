// SCH(m, C) (engine/policy/local_consistency.h) for big traces: the SCH-window(m) cache of
// engine/policy/policy_oracle.cpp replayed by a dedicated simulator that reads the routing trace
// directly and runs several caches over one pass. Its decisions are the simulator's exactly (same
// ranks, same pinning and bypass, tests/engine/policy/routing_stats_test.cpp checks it against
// the general simulator and the paper's reference); its memory is O(experts), not O(accesses).
#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

#include "engine/common/error.h"
#include "engine/policy/local_consistency.h"

namespace moescope::policy {

namespace {

// A resident key's rank: its uses in the segment ahead (fewest leaves first), then its last
// use (least recent first) — the order of the SCH policy's RankIndex.
constexpr int kTickBits = 40;
constexpr uint64_t kPinned = ~uint64_t{0};  // never a victim (and an empty slot)

uint64_t sch_rank(int64_t uses_ahead, int64_t last_use) {
  return uint64_t(uses_ahead) << kTickBits | uint64_t(last_use);
}

// One cache of `capacity` slots over keys 0..n_keys-1. The victim is the lowest rank among the
// slots (pinned keys rank highest and never leave): a min-tournament tree over the slots finds it
// in O(1) with a rank change in O(log capacity); a small cache (a layer's) just scans its slots on
// a miss and changes a rank in O(1).
class SchPool {
 public:
  SchPool(int32_t n_keys, int32_t capacity)
      : slot_(size_t(n_keys), -1),
        key_at_(size_t(capacity), -1),
        capacity_(capacity),
        tree_levels_(capacity > kScanSlots) {
    while (leaves_ < size_t(std::max(capacity, 1))) leaves_ *= 2;
    tree_.assign(2 * leaves_, kPinned);
  }

  bool resident(int32_t key) const { return slot_[size_t(key)] >= 0; }
  void set_rank(int32_t key, uint64_t rank) { update(size_t(slot_[size_t(key)]), rank); }

  // A miss: takes a free slot, or evicts the lowest-ranked resident that the running step does
  // not still need; false (the key is not cached) when there is no slot or every resident is
  // needed. pending(key): the step has yet to access the key. Such a key is pinned when it would
  // be the victim (its rank raised to kPinned until its access sets its rank again): the same
  // victim as pinning all of the step's keys up front, at the cost of the few that are chosen.
  template <typename Pending>
  bool insert(int32_t key, uint64_t rank, Pending pending) {
    size_t slot;
    if (used_ < capacity_) {
      slot = size_t(used_++);
    } else {
      if (capacity_ == 0) return false;
      for (;;) {
        slot = victim();
        if (tree_[leaves_ + slot] == kPinned) return false;
        if (!pending(key_at_[slot])) break;
        update(slot, kPinned);
      }
      slot_[size_t(key_at_[slot])] = -1;
    }
    key_at_[slot] = key;
    slot_[size_t(key)] = int32_t(slot);
    update(slot, rank);
    return true;
  }

 private:
  static constexpr int32_t kScanSlots = 32;

  size_t victim() const {
    if (!tree_levels_) {
      const uint64_t* leaf = &tree_[leaves_];
      return size_t(std::min_element(leaf, leaf + capacity_) - leaf);
    }
    size_t i = 1;
    while (i < leaves_) i = tree_[2 * i] == tree_[i] ? 2 * i : 2 * i + 1;
    return i - leaves_;
  }
  void update(size_t slot, uint64_t rank) {
    size_t i = slot + leaves_;
    tree_[i] = rank;
    if (!tree_levels_) return;
    // Up to the first ancestor whose minimum does not change (the rest then cannot either).
    for (i /= 2; i > 0; i /= 2) {
      const uint64_t m = std::min(tree_[2 * i], tree_[2 * i + 1]);
      if (tree_[i] == m) break;
      tree_[i] = m;
    }
  }

  std::vector<int32_t> slot_;    // [n_keys] slot of a resident key, -1 = not resident
  std::vector<int32_t> key_at_;  // [capacity]
  std::vector<uint64_t> tree_;   // [2 leaves] min over the subtree; leaves are the slots' ranks
  size_t leaves_ = 1;
  int32_t capacity_;
  int32_t used_ = 0;
  bool tree_levels_;  // keep the inner nodes (a large pool), else scan the leaves
};

// One cache configuration: a pool per layer (per_layer[l] holds layer l's experts) and one
// global pool of their total, keyed by the global expert index; hits and accesses per layer.
struct SchCaches {
  std::vector<SchPool> per_layer;
  SchPool global;
  std::vector<std::array<int64_t, 2>> layer_hits, global_hits, accesses;  // [n_layers][phase]

  SchCaches(const MoeShape& shape, const std::vector<int32_t>& slots, int64_t total_slots)
      : global(int32_t(shape.total_experts()), int32_t(total_slots)),
        layer_hits(size_t(shape.n_layers())),
        global_hits(size_t(shape.n_layers())),
        accesses(size_t(shape.n_layers())) {
    for (int32_t l = 0; l < shape.n_layers(); ++l)
      per_layer.emplace_back(shape.n_experts[size_t(l)], slots[size_t(l)]);
  }

  // The rank of a resident key changed (a use entered the segment ahead).
  void rerank(MoeLayerId l, ExpertId e, int64_t g, uint64_t rank) {
    SchPool& p = per_layer[size_t(l.value)];
    if (p.resident(e.value)) p.set_rank(e.value, rank);
    if (global.resident(int32_t(g))) global.set_rank(int32_t(g), rank);
  }
  // An access of expert e of layer l (global key g = first + e); pending[key] marks the keys
  // the running step has yet to access, which may not leave before it has used them.
  void access(MoeLayerId l, ExpertId e, int64_t g, int64_t first, uint64_t rank, int phase,
              const std::vector<uint8_t>& pending) {
    ++accesses[size_t(l.value)][size_t(phase)];
    SchPool& p = per_layer[size_t(l.value)];
    if (p.resident(e.value)) {
      ++layer_hits[size_t(l.value)][size_t(phase)];
      p.set_rank(e.value, rank);
    } else {
      p.insert(e.value, rank, [&](int32_t e2) { return pending[size_t(first + e2)] != 0; });
    }
    if (global.resident(int32_t(g))) {
      ++global_hits[size_t(l.value)][size_t(phase)];
      global.set_rank(int32_t(g), rank);
    } else {
      global.insert(int32_t(g), rank, [&](int32_t g2) { return pending[size_t(g2)] != 0; });
    }
  }

  SchScore score(int32_t m, PhaseFilter filter) const {
    SchScore out;
    out.m = m;
    int64_t hits = 0, global_hit_count = 0, all = 0;
    for (size_t l = 0; l < accesses.size(); ++l) {
      int64_t h = 0, a = 0;
      for (Phase p : {Phase::kPrefill, Phase::kDecode}) {
        if (!phase_selected(filter, p)) continue;
        h += layer_hits[l][size_t(p)];
        a += accesses[l][size_t(p)];
        global_hit_count += global_hits[l][size_t(p)];
      }
      out.per_layer.push_back(a ? double(h) / double(a) : SrpScore::kNaN);
      hits += h;
      all += a;
    }
    out.per_layer_caches = all ? double(hits) / double(all) : SrpScore::kNaN;
    out.model = all ? double(global_hit_count) / double(all) : SrpScore::kNaN;
    return out;
  }
};

}  // namespace

std::vector<SchScore> segment_cache_hit_rates(const RoutingTrace& trace, int32_t m,
                                              const std::vector<std::vector<int32_t>>& slots,
                                              PhaseFilter filter) {
  if (m < 1 || m > (1 << 24)) fail("the SCH window must be 1..16777216 tokens, not {}", m);
  const MoeShape& shape = trace.shape;
  const int32_t L = trace.n_layers();
  std::vector<SchCaches> caches;
  for (const std::vector<int32_t>& s : slots) {
    if (s.size() != size_t(L))
      fail("SCH needs the slots of all {} MoE layers, got {}", L, s.size());
    int64_t total = 0;
    for (int32_t c : s) {
      if (c < 0) fail("SCH needs a non-negative capacity, not {}", c);
      total += c;
    }
    if (total > shape.total_experts()) total = shape.total_experts();  // room for every key
    caches.emplace_back(shape, s, total);
  }
  if (trace.selected.size() >= (uint64_t{1} << kTickBits)) fail("the trace is too long for SCH");

  // uses[g]: accesses of key g in the segment ahead of the running access (after it, up to the
  // last token of [t, t + m)); last_use[g]: the tick of its last access.
  std::vector<int64_t> uses(size_t(shape.total_experts()), 0);
  std::vector<int64_t> last_use(size_t(shape.total_experts()), 0);
  std::vector<uint8_t> pending(size_t(shape.total_experts()), 0);  // the running step's, unused
  auto rank_of = [&](int64_t g) { return sch_rank(uses[size_t(g)], last_use[size_t(g)]); };
  int64_t entered = 0;  // tokens [0, entered) have entered the segment (or left it)
  int64_t tick = 0;
  const int64_t T = trace.n_tokens();
  for (int64_t t = 0; t < T; ++t) {
    // The segment of token t reaches token t + m - 1 (no step is pinning anything here).
    for (; entered < std::min(T, t + m); ++entered) {
      for (int32_t l = 0; l < L; ++l) {
        for (ExpertId e : trace.experts(TokenPos(int32_t(entered)), MoeLayerId(l))) {
          const int64_t g = shape.key_index({MoeLayerId(l), e});
          ++uses[size_t(g)];
          for (SchCaches& c : caches) c.rerank(MoeLayerId(l), e, g, rank_of(g));
        }
      }
    }
    const int phase = int(trace.phase[size_t(t)]);
    for (int32_t l = 0; l < L; ++l) {
      const auto experts = trace.experts(TokenPos(int32_t(t)), MoeLayerId(l));
      const int64_t first = shape.key_index({MoeLayerId(l), ExpertId(0)});
      for (ExpertId e : experts) pending[size_t(first + e.value)] = 1;
      for (ExpertId e : experts) {
        const int64_t g = first + e.value;
        pending[size_t(g)] = 0;
        --uses[size_t(g)];  // it leaves the segment ahead
        last_use[size_t(g)] = ++tick;
        for (SchCaches& c : caches)
          c.access(MoeLayerId(l), e, g, first, rank_of(g), phase, pending);
      }
    }
  }
  std::vector<SchScore> out;
  for (const SchCaches& c : caches) out.push_back(c.score(m, filter));
  return out;
}

}  // namespace moescope::policy
