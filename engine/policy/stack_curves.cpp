#include "engine/policy/stack_curves.h"

#include <limits>

namespace moescope::policy {

namespace {

// hist[phase][d] for stack distance d (1-based; 0 unused) -> cumulative hits per capacity.
HitCurve from_histogram(const std::array<std::vector<int64_t>, 2>& hist,
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
  std::vector<std::vector<int32_t>> layer_keys;  // [n_layers][accesses of the layer]
  std::vector<std::vector<uint8_t>> layer_phase;
  std::vector<int32_t> global_keys;
  std::vector<uint8_t> global_phase;
};

Split split(const AccessStream& stream, const MoeShape& shape) {
  Split s;
  s.layer_keys.resize(size_t(shape.n_layers()));
  s.layer_phase.resize(size_t(shape.n_layers()));
  s.global_keys.reserve(stream.accesses.size());
  s.global_phase.reserve(stream.accesses.size());
  for (const AccessStep& step : stream.steps)
    for (int64_t i = step.begin; i < step.end; ++i) {
      const ExpertKey k = stream.accesses[size_t(i)];
      const uint8_t p = uint8_t(step.phase);
      s.layer_keys[k.layer.value].push_back(k.expert.value);
      s.layer_phase[k.layer.value].push_back(p);
      s.global_keys.push_back(int32_t(shape.key_index(k)));
      s.global_phase.push_back(p);
    }
  return s;
}

template <typename Curve>
CurveSet curves(const AccessStream& stream, const MoeShape& shape, Curve curve) {
  const Split s = split(stream, shape);
  CurveSet out;
  for (int32_t l = 0; l < shape.n_layers(); ++l)
    out.per_layer.push_back(curve(s.layer_keys[l], s.layer_phase[l], shape.n_experts[l]));
  out.global = curve(s.global_keys, s.global_phase, int32_t(shape.total_experts()));
  return out;
}

}  // namespace

HitCurve lru_curve(const std::vector<int32_t>& keys, const std::vector<uint8_t>& phase,
                   int32_t n_keys) {
  std::array<std::vector<int64_t>, 2> hist{std::vector<int64_t>(size_t(n_keys) + 2, 0),
                                           std::vector<int64_t>(size_t(n_keys) + 2, 0)};
  std::vector<int64_t> last(size_t(n_keys), -1);
  Fenwick marks(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    int64_t& prev = last[size_t(keys[i])];
    if (prev >= 0) {
      // Distinct keys touched since the previous use, plus the key itself.
      const int64_t d = marks.prefix(i) - marks.prefix(size_t(prev) + 1) + 1;
      ++hist[phase[i]][size_t(d)];
      marks.add(size_t(prev), -1);
    }
    marks.add(i, 1);
    prev = int64_t(i);
  }
  return from_histogram(hist, phase, n_keys);
}

HitCurve opt_curve(const std::vector<int32_t>& keys, const std::vector<uint8_t>& phase,
                   int32_t n_keys) {
  constexpr int64_t kNever = std::numeric_limits<int64_t>::max();
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
  for (size_t i = 0; i < n; ++i) {
    const int32_t x = keys[i];
    const int32_t d = pos[size_t(x)];  // 0-based depth, -1 = not in the stack
    priority[size_t(x)] = next_use[i];
    if (d >= 0) ++hist[phase[i]][size_t(d) + 1];
    if (d == 0) continue;
    // x goes to the top. Going down, each level keeps the sooner-needed of the entry carried
    // from above and its own; the other is carried on. The cache of size j after the access is
    // then exactly MIN's cache of size j. The carried entry lands where x was (or at the bottom).
    int32_t carried = stack.empty() ? -1 : stack[0];
    if (stack.empty())
      stack.push_back(x);
    else
      stack[0] = x;
    pos[size_t(x)] = 0;
    if (carried < 0) continue;
    const size_t end = d > 0 ? size_t(d) : stack.size();
    for (size_t j = 1; j < end; ++j) {
      // An entry never needed again loses every comparison: it sinks straight to the end.
      if (priority[size_t(carried)] == kNever) break;
      const int32_t here = stack[j];
      if (priority[size_t(here)] > priority[size_t(carried)]) {
        stack[j] = carried;
        pos[size_t(carried)] = int32_t(j);
        carried = here;
      }
    }
    if (d > 0) {
      stack[size_t(d)] = carried;
      pos[size_t(carried)] = d;
    } else {
      pos[size_t(carried)] = int32_t(stack.size());
      stack.push_back(carried);
    }
  }
  return from_histogram(hist, phase, n_keys);
}

CurveSet lru_curves(const AccessStream& stream, const MoeShape& shape) {
  return curves(stream, shape, lru_curve);
}

CurveSet opt_curves(const AccessStream& stream, const MoeShape& shape) {
  return curves(stream, shape, opt_curve);
}

}  // namespace moescope::policy
