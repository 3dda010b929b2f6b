#include "engine/policy/allocators.h"

#include <algorithm>
#include <limits>
#include <numeric>

#include "engine/common/error.h"
#include "engine/policy/access_stream.h"
#include "engine/policy/stack_curves.h"

namespace moescope::policy {

namespace {

// Largest-remainder split of `budget` units by `share`, whole slots of weight[l] units each,
// capped at n_experts; what a capped layer cannot take goes to the others.
std::vector<int32_t> proportional(const MoeShape& shape, const std::vector<uint64_t>& weight,
                                  uint64_t budget, std::vector<double> share) {
  const int32_t L = shape.n_layers();
  double total = std::accumulate(share.begin(), share.end(), 0.0);
  if (!(total > 0)) {
    share.assign(size_t(L), 1.0);
    total = L;
  }
  std::vector<double> target(static_cast<size_t>(L));  // in slots
  std::vector<int32_t> c(size_t(L), 0);
  uint64_t used = 0;
  for (int32_t l = 0; l < L; ++l) {
    target[l] = double(budget) * share[l] / total / double(weight[l]);
    c[l] = int32_t(std::min<double>(std::floor(target[l]), shape.n_experts[l]));
    used += uint64_t(c[l]) * weight[l];
  }
  for (;;) {
    int32_t best = -1;
    for (int32_t l = 0; l < L; ++l) {
      if (c[l] >= shape.n_experts[l] || weight[l] > budget - used) continue;
      if (best < 0 || target[l] - c[l] > target[best] - c[best]) best = l;
    }
    if (best < 0) break;
    ++c[best];
    used += weight[best];
  }
  return c;
}

std::vector<double> traffic(const RoutingTrace& trace) {
  const int32_t L = trace.n_layers();
  std::vector<double> switches(size_t(L), 0.0);
  for (int64_t t = 0; t < trace.n_tokens(); ++t)
    for (int32_t l = 0; l < L; ++l) {
      const auto now = trace.experts(TokenPos(int32_t(t)), MoeLayerId(l));
      if (t == 0) {
        switches[l] += double(now.size());
        continue;
      }
      const auto before = trace.experts(TokenPos(int32_t(t - 1)), MoeLayerId(l));
      for (ExpertId e : now)
        if (std::find(before.begin(), before.end(), e) == before.end()) switches[l] += 1;
    }
  return switches;
}

// f(l, c): LRU misses at layer l with c slots, decode accesses when the trace has any.
std::vector<std::vector<double>> lru_miss_cost(const RoutingTrace& trace) {
  const AccessStream stream = AccessStream::build(trace);
  const CurveSet curves = lru_curves(stream, trace.shape);
  std::vector<std::vector<double>> cost(static_cast<size_t>(trace.n_layers()));
  for (int32_t l = 0; l < trace.n_layers(); ++l) {
    const HitCurve& h = curves.per_layer[l];
    const int p = h.accesses[int(Phase::kDecode)] > 0 ? int(Phase::kDecode) : int(Phase::kPrefill);
    for (size_t c = 0; c < h.hits[p].size(); ++c)
      cost[l].push_back(double(h.accesses[p] - h.hits[p][c]));
  }
  return cost;
}

}  // namespace

AllocatorKind parse_allocator(std::string_view name) {
  if (name == "uniform") return AllocatorKind::kUniform;
  if (name == "traffic") return AllocatorKind::kTraffic;
  if (name == "adapmoe") return AllocatorKind::kAdapMoe;
  if (name == "shallow-first") return AllocatorKind::kShallowFirst;
  fail("unknown allocator '{}' (uniform, traffic, adapmoe, shallow-first)", name);
}

const char* allocator_name(AllocatorKind kind) {
  switch (kind) {
    case AllocatorKind::kUniform:
      return "uniform";
    case AllocatorKind::kTraffic:
      return "traffic";
    case AllocatorKind::kAdapMoe:
      return "adapmoe";
    case AllocatorKind::kShallowFirst:
      return "shallow-first";
  }
  return "?";
}

std::vector<int32_t> min_cost_allocation(const std::vector<std::vector<double>>& cost,
                                         const std::vector<uint64_t>& weight, uint64_t budget) {
  const size_t L = cost.size();
  // dp[b] = least cost of the layers so far using at most b units.
  std::vector<double> dp(size_t(budget) + 1, 0.0), next(size_t(budget) + 1);
  std::vector<std::vector<int32_t>> choice(L, std::vector<int32_t>(size_t(budget) + 1, 0));
  for (size_t l = 0; l < L; ++l) {
    const uint64_t w = weight[l];
    for (uint64_t b = 0; b <= budget; ++b) {
      double best = std::numeric_limits<double>::infinity();
      int32_t best_c = 0;
      for (int32_t c = 0; c < int32_t(cost[l].size()) && uint64_t(c) * w <= b; ++c) {
        const double v = dp[b - uint64_t(c) * w] + cost[l][c];
        if (v < best) {
          best = v;
          best_c = c;
        }
      }
      next[b] = best;
      choice[l][b] = best_c;
    }
    dp.swap(next);
  }
  std::vector<int32_t> c(L, 0);
  uint64_t b = budget;
  for (size_t l = L; l-- > 0;) {
    c[l] = choice[l][b];
    b -= uint64_t(c[l]) * weight[l];
  }
  return c;
}

std::vector<int32_t> allocate_layers(AllocatorKind kind, const MoeShape& shape, Budget budget,
                                     const RoutingTrace* trace) {
  const int32_t L = shape.n_layers();
  std::vector<uint64_t> weight(size_t(L), 1);
  if (budget.unit == Budget::Unit::kBytes)
    for (int32_t l = 0; l < L; ++l) weight[l] = shape.expert_bytes[l];
  // More than every expert is the same as every expert.
  uint64_t all = 0;
  for (int32_t l = 0; l < L; ++l) all += weight[l] * uint64_t(shape.n_experts[l]);
  const uint64_t units = std::min(budget.amount, all);
  if ((kind == AllocatorKind::kTraffic || kind == AllocatorKind::kAdapMoe) && !trace)
    fail("the {} allocator needs a routing trace", allocator_name(kind));
  if (trace && !(trace->shape.n_experts == shape.n_experts))
    fail("the allocator's routing trace has a different expert layout than the model");
  switch (kind) {
    case AllocatorKind::kUniform:
      return proportional(shape, weight, units, {});
    case AllocatorKind::kTraffic:
      return proportional(shape, weight, units, traffic(*trace));
    case AllocatorKind::kShallowFirst: {
      std::vector<double> share(static_cast<size_t>(L));
      for (int32_t l = 0; l < L; ++l) share[l] = double(L - l);
      return proportional(shape, weight, units, share);
    }
    case AllocatorKind::kAdapMoe:
      break;
  }
  // The DP runs in whole units; a byte budget is coarsened to at most 16384 units, rounding
  // expert sizes up so the result always fits.
  uint64_t quantum = 1;
  if (budget.unit == Budget::Unit::kBytes) {
    quantum = 0;
    for (uint64_t w : weight) quantum = std::gcd(quantum, w);
    quantum = std::max(quantum, (units + 16383) / 16384);
  } else if (units > (uint64_t{1} << 20)) {
    fail("the adapmoe allocator handles at most {} slots, not {}", uint64_t{1} << 20, units);
  }
  std::vector<uint64_t> q_weight(static_cast<size_t>(L));
  for (int32_t l = 0; l < L; ++l) q_weight[l] = (weight[l] + quantum - 1) / quantum;
  const std::vector<std::vector<double>> cost = lru_miss_cost(*trace);
  std::vector<int32_t> c = min_cost_allocation(cost, q_weight, units / quantum);
  // Slots with no value on this trace still help on others: hand out what is left to the layers
  // with the most remaining misses.
  uint64_t used = 0;
  for (int32_t l = 0; l < L; ++l) used += uint64_t(c[l]) * weight[l];
  for (;;) {
    int32_t best = -1;
    for (int32_t l = 0; l < L; ++l) {
      if (c[l] >= shape.n_experts[l] || weight[l] > units - used) continue;
      if (best < 0 || cost[l][c[l]] > cost[best][c[best]]) best = l;
    }
    if (best < 0) break;
    ++c[best];
    used += weight[best];
  }
  return c;
}

CacheCapacity make_capacity(PoolKind pool, Budget budget, const MoeShape& shape,
                            AllocatorKind allocator, const RoutingTrace* trace) {
  if (pool == PoolKind::kGlobal)
    return budget.unit == Budget::Unit::kBytes ? CacheCapacity::global_bytes(budget.amount)
                                               : CacheCapacity::global_slots(budget.amount);
  return CacheCapacity::per_layer(allocate_layers(allocator, shape, budget, trace));
}

}  // namespace moescope::policy
