#pragma once
// The one-pass curves as MoEScope computed them before they were made to scale (session 4): the
// stream split into materialised per-partition copies, LRU distances from a Fenwick tree over
// stream positions, and Mattson's OPT stack walked entry by entry. Kept verbatim as a reference
// for engine/policy/stack_curves.cpp, which must give the same counts on every trace.
#include <array>
#include <cstdint>
#include <limits>
#include <vector>

#include "engine/policy/access_stream.h"
#include "engine/policy/moe_shape.h"
#include "engine/policy/stack_curves.h"

namespace moescope::policy::testing::reference {

// One partition's access sequence: keys in [0, n_keys), and per access its phase and its step
// (a step's accesses are contiguous and distinct).
struct PartitionAccesses {
  std::vector<int32_t> keys;
  std::vector<uint8_t> phase;
  std::vector<int64_t> step;
};

// hist[phase][d] for stack distance d (1-based; 0 unused) -> cumulative hits per capacity.
inline HitCurve from_histogram(const std::array<std::vector<int64_t>, 2>& hist,
                               const std::vector<uint8_t>& phase, int32_t n_keys) {
  HitCurve h;
  for (int p = 0; p < 2; ++p) {
    h.hits[p].assign(size_t(n_keys) + 1, 0);
    for (int32_t c = 1; c <= n_keys; ++c) h.hits[p][c] = h.hits[p][c - 1] + hist[p][c];
  }
  for (uint8_t p : phase) ++h.accesses[p];
  return h;
}

// Fenwick tree over stream positions: marks the latest occurrence of every key.
class Fenwick {
 public:
  explicit Fenwick(size_t n) : tree_(n + 1, 0) {}
  void add(size_t i, int32_t v) {
    for (++i; i < tree_.size(); i += i & (~i + 1)) tree_[i] += v;
  }
  int64_t prefix(size_t i) const {  // sum of [0, i)
    int64_t s = 0;
    for (; i > 0; i -= i & (~i + 1)) s += tree_[i];
    return s;
  }

 private:
  std::vector<int32_t> tree_;
};

struct Split {
  std::vector<PartitionAccesses> layer;  // [n_layers]
  PartitionAccesses global;
};

inline void append(PartitionAccesses& a, int32_t key, uint8_t phase, int64_t step) {
  a.keys.push_back(key);
  a.phase.push_back(phase);
  a.step.push_back(step);
}

inline Split split(const AccessStream& stream, const MoeShape& shape) {
  Split s;
  s.layer.resize(size_t(shape.n_layers()));
  for (size_t t = 0; t < stream.steps.size(); ++t) {
    const AccessStep& step = stream.steps[t];
    for (int64_t i = step.begin; i < step.end; ++i) {
      const ExpertKey k = stream.accesses[size_t(i)];
      const uint8_t p = uint8_t(step.phase);
      append(s.layer[k.layer.value], k.expert.value, p, int64_t(t));
      append(s.global, int32_t(shape.key_index(k)), p, int64_t(t));
    }
  }
  return s;
}

template <typename Curve>
CurveSet curves(const AccessStream& stream, const MoeShape& shape, Curve curve) {
  const Split s = split(stream, shape);
  CurveSet out;
  for (int32_t l = 0; l < shape.n_layers(); ++l)
    out.per_layer.push_back(curve(s.layer[size_t(l)], shape.n_experts[l]));
  out.global = curve(s.global, int32_t(shape.total_experts()));
  return out;
}

// [begin, end) of the step starting at access i.
inline size_t step_end(const PartitionAccesses& a, size_t i) {
  size_t e = i + 1;
  while (e < a.keys.size() && a.step[e] == a.step[i]) ++e;
  return e;
}

inline HitCurve lru_curve(const PartitionAccesses& a, int32_t n_keys) {
  const std::vector<int32_t>& keys = a.keys;
  std::array<std::vector<int64_t>, 2> hist{std::vector<int64_t>(size_t(n_keys) + 2, 0),
                                           std::vector<int64_t>(size_t(n_keys) + 2, 0)};
  std::vector<int64_t> last(size_t(n_keys), -1);
  Fenwick marks(keys.size());
  for (size_t begin = 0; begin < keys.size();) {
    const size_t end = step_end(a, begin);
    // Distances against the recency order at the step's start: distinct keys touched after the
    // previous use and before the step, plus the key itself.
    for (size_t i = begin; i < end; ++i) {
      const int64_t prev = last[size_t(keys[i])];
      if (prev >= 0) {
        const int64_t d = marks.prefix(begin) - marks.prefix(size_t(prev) + 1) + 1;
        ++hist[a.phase[i]][size_t(d)];
      }
    }
    for (size_t i = begin; i < end; ++i) {
      int64_t& prev = last[size_t(keys[i])];
      if (prev >= 0) marks.add(size_t(prev), -1);
      marks.add(i, 1);
      prev = int64_t(i);
    }
    begin = end;
  }
  return from_histogram(hist, a.phase, n_keys);
}

inline HitCurve opt_curve(const PartitionAccesses& a, int32_t n_keys) {
  constexpr int64_t kNever = std::numeric_limits<int64_t>::max();
  const std::vector<int32_t>& keys = a.keys;
  const size_t n = keys.size();
  std::vector<int64_t> next_use(n);  // [n] next position of the same key, or kNever
  {
    std::vector<int64_t> seen(size_t(n_keys), kNever);
    for (size_t i = n; i-- > 0;) {
      next_use[i] = seen[size_t(keys[i])];
      seen[size_t(keys[i])] = int64_t(i);
    }
  }
  std::array<std::vector<int64_t>, 2> hist{std::vector<int64_t>(size_t(n_keys) + 2, 0),
                                           std::vector<int64_t>(size_t(n_keys) + 2, 0)};
  std::vector<int32_t> stack;                        // [depth] keys, top first
  std::vector<int32_t> pos(size_t(n_keys), -1);      // position of each key in stack
  std::vector<int64_t> priority(size_t(n_keys), 0);  // next use: sooner = kept higher
  std::vector<uint8_t> pending(size_t(n_keys), 0);   // the running step has yet to access it
  size_t step_last = 0;                              // end of the running step
  for (size_t i = 0; i < n; ++i) {
    if (i >= step_last) {
      step_last = step_end(a, i);
      for (size_t j = i; j < step_last; ++j) pending[size_t(keys[j])] = 1;
    }
    const int32_t x = keys[i];
    pending[size_t(x)] = 0;
    const int32_t d = pos[size_t(x)];  // 0-based depth, -1 = not in the stack
    priority[size_t(x)] = next_use[i];
    if (d >= 0) ++hist[a.phase[i]][size_t(d) + 1];
    // Keys the step has yet to access are needed soonest, so MIN keeps them on top; they are
    // pinned, so a cache holding nothing else does not admit x. x goes just below them.
    size_t m = 0;
    while (m < stack.size() && pending[size_t(stack[m])]) ++m;
    if (d == int32_t(m)) continue;
    if (m == stack.size()) {
      pos[size_t(x)] = int32_t(m);
      stack.push_back(x);
      continue;
    }
    // Going down from m, each level keeps the sooner-needed of the entry carried from above and
    // its own; the other is carried on. The cache of size j after the access is then exactly
    // the (pinned) MIN cache of size j. The carried entry lands where x was (or at the bottom).
    int32_t carried = stack[m];
    stack[m] = x;
    pos[size_t(x)] = int32_t(m);
    const size_t end = d >= 0 ? size_t(d) : stack.size();
    for (size_t j = m + 1; j < end; ++j) {
      // An entry never needed again loses every comparison: it sinks straight to the end.
      if (priority[size_t(carried)] == kNever) break;
      const int32_t here = stack[j];
      if (priority[size_t(here)] > priority[size_t(carried)]) {
        stack[j] = carried;
        pos[size_t(carried)] = int32_t(j);
        carried = here;
      }
    }
    if (d >= 0) {
      stack[size_t(d)] = carried;
      pos[size_t(carried)] = d;
    } else {
      pos[size_t(carried)] = int32_t(stack.size());
      stack.push_back(carried);
    }
  }
  return from_histogram(hist, a.phase, n_keys);
}

inline CurveSet lru_curves(const AccessStream& stream, const MoeShape& shape) {
  return curves(stream, shape, lru_curve);
}

inline CurveSet opt_curves(const AccessStream& stream, const MoeShape& shape) {
  return curves(stream, shape, opt_curve);
}

}  // namespace moescope::policy::testing::reference
