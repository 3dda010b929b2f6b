#include "engine/policy/stack_curves.h"

#include <algorithm>
#include <limits>
#include <utility>

namespace moescope::policy {

namespace {

// Hits by stack depth of one partition, per phase: depth d (1-based) hits with d or more slots.
class DepthHistogram {
 public:
  explicit DepthHistogram(int32_t n_keys)
      : n_keys_(n_keys),
        hist_{std::vector<int64_t>(size_t(n_keys) + 2, 0),
              std::vector<int64_t>(size_t(n_keys) + 2, 0)} {}

  // depth 0 = not in the stack (a miss at every capacity).
  void add(uint8_t phase, int64_t depth) {
    ++accesses_[phase];
    ++hist_[phase][size_t(depth)];
  }

  HitCurve curve() const {
    HitCurve h;
    for (int p = 0; p < 2; ++p) {
      h.hits[p].assign(size_t(n_keys_) + 1, 0);
      for (int32_t c = 1; c <= n_keys_; ++c) h.hits[p][c] = h.hits[p][c - 1] + hist_[p][c];
    }
    h.accesses = accesses_;
    return h;
  }

 private:
  int32_t n_keys_;
  std::array<std::vector<int64_t>, 2> hist_;
  std::array<int64_t, 2> accesses_{};
};

// The recency (LRU) stack of one partition in O(keys) memory: every key's last touch carries a
// stamp, and a Fenwick tree over stamps counts the keys touched since a given one. Stamps are
// renumbered densely when they run out (amortised O(log keys) per touch).
class LruStack {
 public:
  explicit LruStack(int32_t n_keys)
      : last_(size_t(n_keys), -1),
        room_(std::max<size_t>(4 * size_t(n_keys), 64)),
        tree_(room_ + 1, 0) {}

  // 1-based depth of key in the recency order of the touches so far; 0 = never touched.
  int64_t depth(int32_t key) const {
    const int64_t s = last_[size_t(key)];
    return s < 0 ? 0 : live_ - prefix(size_t(s) + 1) + 1;
  }

  void touch(int32_t key) {
    if (next_ == room_) renumber();
    int64_t& s = last_[size_t(key)];
    if (s >= 0) {
      add(size_t(s), -1);
    } else {
      ++live_;
    }
    add(next_, 1);
    s = int64_t(next_++);
  }

 private:
  void add(size_t i, int32_t v) {
    for (++i; i < tree_.size(); i += i & (~i + 1)) tree_[i] += v;
  }
  int64_t prefix(size_t i) const {  // marks among stamps [0, i)
    int64_t s = 0;
    for (; i > 0; i -= i & (~i + 1)) s += tree_[i];
    return s;
  }
  // Stamps 0..live-1 in the same order.
  void renumber() {
    std::vector<std::pair<int64_t, int32_t>> order;
    for (size_t k = 0; k < last_.size(); ++k)
      if (last_[k] >= 0) order.push_back({last_[k], int32_t(k)});
    std::sort(order.begin(), order.end());
    std::fill(tree_.begin(), tree_.end(), 0);
    next_ = 0;
    for (const auto& [stamp, key] : order) {
      last_[size_t(key)] = int64_t(next_);
      add(next_++, 1);
    }
  }

  std::vector<int64_t> last_;  // [n_keys] stamp of the last touch, -1 = never
  size_t room_;                // stamps available before renumbering (> 2 x keys)
  std::vector<int32_t> tree_;  // Fenwick tree over stamps: 1 at each key's last stamp
  size_t next_ = 0;
  int64_t live_ = 0;  // keys touched at least once
};

// Mattson's OPT stack of one partition. Priority of a key = its next use (sooner = kept higher);
// the priorities are stored in stack order, contiguously, so that the walk down the stack looks
// for the next entry needed later than the carried one with a vectorisable scan.
template <typename Pos>
class OptStack {
 public:
  static constexpr Pos kNever = std::numeric_limits<Pos>::max();

  // Keys 0..n_keys-1; key_base maps them to the global index of the `pending` flags.
  OptStack(int32_t n_keys, int64_t key_base) : pos_(size_t(n_keys), -1), base_(key_base) {}

  // The access of key x whose next use is `next`: returns its depth before the access (0-based,
  // -1 = not in the stack) and updates the stack. pending[global key]: the running step has yet
  // to access it (x itself already cleared).
  int32_t access(int32_t x, Pos next, const std::vector<uint8_t>& pending) {
    const int32_t d = pos_[size_t(x)];
    // Keys the step has yet to access are needed soonest, so MIN keeps them on top; they are
    // pinned, so a cache holding nothing else does not admit x. x goes just below them.
    size_t m = 0;
    while (m < key_.size() && pending[size_t(base_ + key_[m])]) ++m;
    if (d == int32_t(m)) {
      prio_[m] = next;
      return d;
    }
    if (m == key_.size()) {
      push(x, next);
      return d;
    }
    // Going down from m, each level keeps the sooner-needed of the entry carried from above and
    // its own; the other is carried on. The cache of size j after the access is then exactly
    // the (pinned) MIN cache of size j. The carried entry lands where x was (or at the bottom).
    // Only the levels holding an entry needed later than the carried one change, so the walk
    // jumps from one to the next; an entry never needed again finds none and sinks to the end.
    int32_t carried = key_[m];
    Pos carried_next = prio_[m];
    key_[m] = x;
    prio_[m] = next;
    pos_[size_t(x)] = int32_t(m);
    const size_t end = d >= 0 ? size_t(d) : key_.size();
    for (size_t j = first_later(m + 1, end, carried_next); j < end;
         j = first_later(j + 1, end, carried_next)) {
      std::swap(key_[j], carried);
      std::swap(prio_[j], carried_next);
      pos_[size_t(key_[j])] = int32_t(j);
    }
    if (d >= 0) {
      key_[size_t(d)] = carried;
      prio_[size_t(d)] = carried_next;
      pos_[size_t(carried)] = d;
    } else {
      push(carried, carried_next);
    }
    return d;
  }

 private:
  void push(int32_t key, Pos next) {
    pos_[size_t(key)] = int32_t(key_.size());
    key_.push_back(key);
    prio_.push_back(next);
  }

  // First level in [j, end) whose entry is needed later than p, else end. Whole chunks are
  // tested without a branch per entry (the compiler vectorises the inner loop).
  size_t first_later(size_t j, size_t end, Pos p) const {
    constexpr size_t kChunk = 32;
    const Pos* a = prio_.data();
    while (j + kChunk <= end) {
      int any = 0;
      for (size_t u = 0; u < kChunk; ++u) any |= int(a[j + u] > p);
      if (any) break;
      j += kChunk;
    }
    while (j < end && !(a[j] > p)) ++j;
    return j;
  }

  std::vector<int32_t> key_;  // [depth] keys, top first
  std::vector<Pos> prio_;     // [depth] next use of key_[j]
  std::vector<int32_t> pos_;  // [n_keys] depth of each key, -1 = not in the stack
  int64_t base_;
};

// The stacks of one kind for every partition: each layer's and the global pool's.
// make(n_keys, key_base) builds one; key_base is the global index of the partition's key 0.
template <typename Stack>
struct Partitions {
  std::vector<Stack> layer;
  std::vector<DepthHistogram> layer_hist;
  Stack global;
  DepthHistogram global_hist;

  template <typename Make>
  Partitions(const MoeShape& shape, Make make)
      : global(make(int32_t(shape.total_experts()), 0)),
        global_hist(int32_t(shape.total_experts())) {
    for (int32_t l = 0; l < shape.n_layers(); ++l) {
      const int32_t n = shape.n_experts[size_t(l)];
      layer.push_back(make(n, shape.key_index({MoeLayerId(l), ExpertId(0)})));
      layer_hist.emplace_back(n);
    }
  }

  CurveSet curves() const {
    CurveSet out;
    for (const DepthHistogram& h : layer_hist) out.per_layer.push_back(h.curve());
    out.global = global_hist.curve();
    return out;
  }
};

template <typename Pos>
CurveSet opt_curves_with(const AccessStream& stream, const MoeShape& shape) {
  constexpr Pos kNever = OptStack<Pos>::kNever;
  const std::vector<ExpertKey>& accesses = stream.accesses;
  // next_use[i]: the next stream position of the same key. Positions of the whole stream order
  // the next uses of every partition alike, so one array serves them all.
  std::vector<Pos> next_use(accesses.size());
  {
    std::vector<Pos> seen(size_t(shape.total_experts()), kNever);
    for (size_t i = accesses.size(); i-- > 0;) {
      Pos& s = seen[size_t(shape.key_index(accesses[i]))];
      next_use[i] = s;
      s = Pos(i);
    }
  }
  Partitions<OptStack<Pos>> stacks(shape,
                                   [](int32_t n, int64_t base) { return OptStack<Pos>(n, base); });
  std::vector<uint8_t> pending(size_t(shape.total_experts()), 0);
  for (const AccessStep& step : stream.steps) {
    const auto phase = uint8_t(step.phase);
    for (int64_t i = step.begin; i < step.end; ++i)
      pending[size_t(shape.key_index(accesses[size_t(i)]))] = 1;
    for (int64_t i = step.begin; i < step.end; ++i) {
      const ExpertKey k = accesses[size_t(i)];
      const auto g = int32_t(shape.key_index(k));
      pending[size_t(g)] = 0;
      const Pos next = next_use[size_t(i)];
      const int32_t dl = stacks.layer[size_t(k.layer.value)].access(k.expert.value, next, pending);
      stacks.layer_hist[size_t(k.layer.value)].add(phase, dl + 1);
      stacks.global_hist.add(phase, stacks.global.access(g, next, pending) + 1);
    }
  }
  return stacks.curves();
}

}  // namespace

CurveSet lru_curves(const AccessStream& stream, const MoeShape& shape) {
  Partitions<LruStack> stacks(shape, [](int32_t n, int64_t) { return LruStack(n); });
  const std::vector<ExpertKey>& accesses = stream.accesses;
  for (const AccessStep& step : stream.steps) {
    const auto phase = uint8_t(step.phase);
    // Distances against the recency order at the step's start, then the step's touches.
    for (int64_t i = step.begin; i < step.end; ++i) {
      const ExpertKey k = accesses[size_t(i)];
      stacks.layer_hist[size_t(k.layer.value)].add(
          phase, stacks.layer[size_t(k.layer.value)].depth(k.expert.value));
      stacks.global_hist.add(phase, stacks.global.depth(int32_t(shape.key_index(k))));
    }
    for (int64_t i = step.begin; i < step.end; ++i) {
      const ExpertKey k = accesses[size_t(i)];
      stacks.layer[size_t(k.layer.value)].touch(k.expert.value);
      stacks.global.touch(int32_t(shape.key_index(k)));
    }
  }
  return stacks.curves();
}

CurveSet opt_curves(const AccessStream& stream, const MoeShape& shape) {
  if (stream.accesses.size() < size_t(std::numeric_limits<int32_t>::max()))
    return opt_curves_with<int32_t>(stream, shape);
  return opt_curves_with<int64_t>(stream, shape);
}

}  // namespace moescope::policy
