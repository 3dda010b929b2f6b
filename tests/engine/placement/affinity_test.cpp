#include <gtest/gtest.h>

#include <functional>

#include "engine/common/error.h"
#include "engine/placement/affinity.h"
#include "engine/placement/contiguous.h"
#include "engine/placement/ep_simulator.h"
#include "engine/placement/joint.h"
#include "tests/engine/placement/placement_test_util.h"

namespace moescope::placement {
namespace {

using testing::affine_routing;

// Pairs of a token's experts at consecutive layers that share a device, counted straight from the
// routing (independent of ExpertStatistics).
double kept_pairs(const policy::RoutingTrace& trace, const std::vector<std::vector<int>>& dev) {
  double kept = 0;
  for (int64_t t = 0; t < trace.n_tokens(); ++t)
    for (int32_t l = 0; l + 1 < trace.n_layers(); ++l)
      for (ExpertId i : trace.experts(TokenPos(int32_t(t)), MoeLayerId(l)))
        for (ExpertId p : trace.experts(TokenPos(int32_t(t)), MoeLayerId(l + 1)))
          kept += dev[size_t(l)][size_t(i.value)] == dev[size_t(l + 1)][size_t(p.value)];
  return kept;
}

std::vector<std::vector<int>> balanced(int experts, int devices) {
  std::vector<std::vector<int>> all;
  std::vector<int> cur(static_cast<size_t>(experts)), room(size_t(devices), experts / devices);
  std::function<void(int)> go = [&](int e) {
    if (e == experts) return all.push_back(cur);
    for (int d = 0; d < devices; ++d)
      if (room[size_t(d)] > 0) --room[size_t(d)], cur[size_t(e)] = d, go(e + 1), ++room[size_t(d)];
  };
  go(0);
  return all;
}

// Brute force over every combination of balanced layer assignments.
double brute_force_optimum(const policy::RoutingTrace& trace, int experts, int devices) {
  const auto options = balanced(experts, devices);
  const int layers = trace.n_layers();
  std::vector<size_t> pick(static_cast<size_t>(layers), 0);
  double best = -1;
  while (true) {
    std::vector<std::vector<int>> dev;
    for (size_t c : pick) dev.push_back(options[c]);
    best = std::max(best, kept_pairs(trace, dev));
    size_t l = 0;
    while (l < pick.size() && ++pick[l] == options.size()) pick[l++] = 0;
    if (l == pick.size()) break;
  }
  return best;
}

std::vector<std::vector<int>> devices_of(const Placement& p) {
  std::vector<std::vector<int>> dev;
  for (const LayerPlacement& layer : p.layers) {
    std::vector<int> d(layer.phy2log.size());
    for (int32_t s = 0; s < layer.n_slots(); ++s) d[size_t(layer.phy2log[size_t(s)].value)] = layer.device_of_slot(s).value;
    dev.push_back(d);
  }
  return dev;
}

TEST(Affinity, ExactOnSmallCasesEqualsBruteForce) {
  struct Case {
    int layers, experts, devices, k;
    uint64_t seed;
  };
  for (const Case c : {Case{3, 4, 2, 1, 1}, Case{3, 4, 2, 2, 2}, Case{3, 6, 3, 2, 3},
                       Case{4, 4, 2, 2, 4}, Case{3, 6, 2, 1, 5}}) {
    const policy::RoutingTrace trace = affine_routing(c.layers, c.experts, c.k, 200, 0.5, c.seed);
    const TraceRoutingSource source(trace);
    const ExpertStatistics stats = gather_statistics(source, {0, trace.n_tokens()});
    const Topology topo{.devices = c.devices, .nodes = 1};
    const AffinityResult r = affinity_placement(stats, topo);
    ASSERT_TRUE(r.exact);
    const double optimum = brute_force_optimum(trace, c.experts, c.devices);
    EXPECT_DOUBLE_EQ(r.colocated, optimum) << "seed " << c.seed;
    EXPECT_DOUBLE_EQ(kept_pairs(trace, devices_of(r.placement)), optimum);
    // The heuristic never beats the optimum and respects its bound.
    const AffinityResult h = affinity_placement(stats, topo, AffinityOptions{.exact_limit = 0});
    EXPECT_FALSE(h.exact);
    EXPECT_LE(h.colocated, optimum + 1e-9);
    EXPECT_GE(h.upper_bound, optimum - 1e-9);
  }
}

TEST(Affinity, AtLeastContiguousOnEveryTestTrace) {
  for (uint64_t seed = 1; seed <= 4; ++seed)
    for (int devices : {2, 4, 8}) {
      const policy::RoutingTrace trace = affine_routing(4, 16, 2, 500, seed * 0.2, seed);
      const TraceRoutingSource source(trace);
      const TokenSpan all{0, trace.n_tokens()};
      const ExpertStatistics stats = gather_statistics(source, all);
      const Topology topo{.devices = devices, .nodes = 1};
      const AffinityResult r = affinity_placement(stats, topo);
      const Placement contiguous = contiguous_placement(stats.n_experts, topo, 0);
      const auto m = simulate(source, all, {contiguous, r.placement}, SimOptions{});
      EXPECT_GE(m[1].same_device_fraction(), m[0].same_device_fraction());
      EXPECT_DOUBLE_EQ(m[1].same_device_fraction(), r.colocated / r.total);
      EXPECT_LE(r.colocated, r.upper_bound + 1e-9);
      validate(r.placement, stats.n_experts);
    }
}

TEST(Affinity, RejectsExpertsThatDoNotDivide) {
  const policy::RoutingTrace trace = affine_routing(2, 6, 1, 20, 0, 1);
  const ExpertStatistics stats = gather_statistics(TraceRoutingSource(trace), {0, 20});
  EXPECT_THROW(affinity_placement(stats, Topology{.devices = 4, .nodes = 1}), Error);
  EXPECT_EQ(balanced_assignments(8, 4, 1'000'000), 2520);
  EXPECT_EQ(balanced_assignments(16, 4, 1000), 1001);
}

TEST(Joint, NoWorseThanContiguousOnItsObjective) {
  for (uint64_t seed = 1; seed <= 3; ++seed) {
    const policy::RoutingTrace trace = affine_routing(4, 16, 2, 400, 0.5, seed);
    const ExpertStatistics stats =
        gather_statistics(TraceRoutingSource(trace), {0, trace.n_tokens()});
    const Topology topo{.devices = 4, .nodes = 1};
    const JointResult r = joint_placement(stats, topo, 1.0);
    EXPECT_LE(r.cost, r.contiguous_cost + 1e-9);
    validate(r.placement, stats.n_experts);
    // The reported cost is the objective of the placement returned.
    DeviceAssignment dev;
    for (const auto& row : devices_of(r.placement)) dev.emplace_back(row.begin(), row.end());
    EXPECT_NEAR(search_cost(stats, dev, 4, SearchWeights{.max_weight = 1, .beta = 1}), r.cost, 1e-6);
  }
}

}  // namespace
}  // namespace moescope::placement
