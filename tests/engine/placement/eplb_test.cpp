#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

#include "engine/common/error.h"
#include "engine/placement/eplb.h"

namespace moescope::placement {
namespace {

// deepseek-ai/EPLB README, "Interface and Example": two layers of 12 experts, 16 physical
// experts, 4 groups, 2 nodes, 8 GPUs (hierarchical policy).
const std::vector<std::vector<double>> kReadmeWeight{
    {90, 132, 40, 61, 104, 165, 39, 4, 73, 56, 183, 86},
    {20, 107, 104, 64, 19, 197, 187, 157, 172, 86, 16, 27}};

TEST(Eplb, ReproducesTheReadmeExampleExactly) {
  const EplbResult r = rebalance_experts(kReadmeWeight, 16, 4, 2, 8);
  EXPECT_TRUE(r.hierarchical);
  const std::vector<std::vector<int32_t>> expected{
      {5, 6, 5, 7, 8, 4, 3, 4, 10, 9, 10, 2, 0, 1, 11, 1},
      {7, 10, 6, 8, 6, 11, 8, 9, 2, 4, 5, 1, 5, 0, 3, 1}};
  EXPECT_EQ(r.phy2log, expected);
  // Replica counts follow from the map: experts 1, 4, 5, 10 (layer 0) and 1, 5, 6, 8 (layer 1)
  // have two replicas.
  const std::vector<std::vector<int32_t>> counts{{1, 2, 1, 1, 2, 2, 1, 1, 1, 1, 2, 1},
                                                 {1, 2, 1, 1, 1, 2, 2, 1, 2, 1, 1, 1}};
  EXPECT_EQ(r.logcnt, counts);
  // log2phy inverts phy2log rank by rank.
  for (size_t l = 0; l < 2; ++l)
    for (size_t s = 0; s < 16; ++s)
      EXPECT_EQ(r.log2phy[l][size_t(r.phy2log[l][s])][size_t(r.phyrank[l][s])], int32_t(s));
  EXPECT_EQ(r.log2phy[0][0][1], -1);
}

TEST(Eplb, GlobalPolicyWhenGroupsDoNotDivideOverNodes) {
  const EplbResult r = rebalance_experts(kReadmeWeight, 16, 3, 2, 8);
  EXPECT_FALSE(r.hierarchical);
  const EplbResult no_groups = rebalance_experts(kReadmeWeight, 16, std::nullopt, 2, 8);
  EXPECT_EQ(r.phy2log, no_groups.phy2log);
  for (size_t l = 0; l < 2; ++l) {
    // Redundant replicas go to the experts with the highest load per replica.
    const auto& cnt = r.logcnt[l];
    EXPECT_EQ(std::accumulate(cnt.begin(), cnt.end(), 0), 16);
    double lowest_doubled = 1e9, highest_single = 0;
    for (size_t e = 0; e < 12; ++e) {
      if (cnt[e] == 2) lowest_doubled = std::min(lowest_doubled, kReadmeWeight[l][e]);
      if (cnt[e] == 1) highest_single = std::max(highest_single, kReadmeWeight[l][e]);
    }
    EXPECT_GE(lowest_doubled / 2, 0.0);
    EXPECT_GE(lowest_doubled, highest_single / 2);
  }
}

TEST(Eplb, BalancedPackingFillsEveryPackExactly) {
  const std::vector<float> w{9, 1, 8, 2, 7, 3};
  const auto [pack, rank] = balanced_packing(w, 3);
  std::vector<int32_t> items(3, 0);
  std::vector<float> load(3, 0);
  for (size_t i = 0; i < w.size(); ++i) ++items[size_t(pack[i])], load[size_t(pack[i])] += w[i];
  EXPECT_EQ(items, (std::vector<int32_t>{2, 2, 2}));
  // Greedy: 9->p0, 8->p1, 7->p2, 3->p2 (lightest), 2->p1, 1->p0: every pack weighs 10.
  EXPECT_EQ(load, (std::vector<float>{10, 10, 10}));
}

TEST(Eplb, RejectsSizesThatDoNotDivide) {
  EXPECT_THROW(rebalance_experts(kReadmeWeight, 15, 4, 2, 8), Error);
  EXPECT_THROW(rebalance_experts(kReadmeWeight, 8, 4, 2, 8), Error);
  EXPECT_THROW(rebalance_experts(kReadmeWeight, 16, 4, 3, 8), Error);
  EXPECT_THROW(rebalance_experts(kReadmeWeight, 16, 8, 2, 8), Error);  // 12 experts, 8 groups
}

TEST(Eplb, PlacementPutsEqualSlotsOnEveryDevice) {
  const Placement p = eplb_placement(kReadmeWeight, Topology{.devices = 8, .nodes = 2}, 4, 4);
  validate(p, {12, 12});
  EXPECT_EQ(p.layers[0].slots_per_device, 2);
  EXPECT_EQ(p.layers[0].phy2log[0], ExpertId(5));
}

}  // namespace
}  // namespace moescope::placement
