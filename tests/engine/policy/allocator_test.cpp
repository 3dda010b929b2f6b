#include <gtest/gtest.h>

#include <random>

#include "engine/common/error.h"
#include "engine/policy/allocators.h"
#include "engine/policy/synthetic_trace.h"
#include "tests/engine/policy/policy_test_util.h"

namespace moescope::policy {
namespace {

TEST(Allocators, UniformSplitsSlotsAndRespectsCaps) {
  const MoeShape s = MoeShape::uniform(4, 8, 2, 100);
  EXPECT_EQ(allocate_layers(AllocatorKind::kUniform, s, Budget::slots(10)),
            (std::vector<int32_t>{3, 3, 2, 2}));
  EXPECT_EQ(allocate_layers(AllocatorKind::kUniform, s, Budget::slots(1000)),
            (std::vector<int32_t>{8, 8, 8, 8}));
  MoeShape uneven;
  uneven.n_experts = {2, 8, 8};
  uneven.top_k = {1, 1, 1};
  uneven.expert_bytes = {100, 100, 100};
  uneven.validate();
  // 15 slots: the 2-expert layer is capped and its share goes to the others.
  EXPECT_EQ(allocate_layers(AllocatorKind::kUniform, uneven, Budget::slots(15)),
            (std::vector<int32_t>{2, 7, 6}));
}

TEST(Allocators, ByteBudgetsUseEachLayersExpertSize) {
  MoeShape s;
  s.n_experts = {10, 10};
  s.top_k = {1, 1};
  s.expert_bytes = {100, 200};
  s.validate();
  // 500 bytes each: 5 and 2 experts (400 bytes); the last 100 bytes only fit a layer-0 expert.
  EXPECT_EQ(allocate_layers(AllocatorKind::kUniform, s, Budget::bytes(1000)),
            (std::vector<int32_t>{6, 2}));
  const CacheCapacity global = make_capacity(PoolKind::kGlobal, Budget::bytes(1000), s);
  EXPECT_TRUE(global.in_bytes);
  EXPECT_EQ(global.global, 1000u);
}

TEST(Allocators, ShallowFirstAndTrafficShares) {
  const MoeShape s = MoeShape::uniform(4, 16, 2, 1);
  const auto shallow = allocate_layers(AllocatorKind::kShallowFirst, s, Budget::slots(20));
  EXPECT_EQ(shallow, (std::vector<int32_t>{8, 6, 4, 2}));
  // Layer 0 never changes experts, layer 1 changes every token.
  std::vector<std::vector<std::vector<int>>> r;
  for (int t = 0; t < 30; ++t) r.push_back({{0}, {t % 8}});
  const RoutingTrace t = testing::make_trace(r, 8);
  EXPECT_EQ(allocate_layers(AllocatorKind::kTraffic, t.shape, Budget::slots(8), &t),
            (std::vector<int32_t>{0, 8}));
  EXPECT_THROW(allocate_layers(AllocatorKind::kTraffic, t.shape, Budget::slots(8)), Error);
  EXPECT_THROW(parse_allocator("fair"), Error);
  EXPECT_EQ(parse_allocator("adapmoe"), AllocatorKind::kAdapMoe);
}

TEST(Allocators, DynamicProgramIsOptimal) {
  std::mt19937 rng(3);
  for (int trial = 0; trial < 50; ++trial) {
    const int L = 1 + trial % 3;
    std::vector<std::vector<double>> cost(L);
    std::vector<uint64_t> weight(L);
    for (int l = 0; l < L; ++l) {
      weight[l] = 1 + rng() % 3;
      double c = 100;
      for (int i = 0; i <= 4; ++i) cost[l].push_back(c -= double(rng() % 20));
    }
    const uint64_t budget = rng() % 12;
    const std::vector<int32_t> got = min_cost_allocation(cost, weight, budget);
    auto value = [&](const std::vector<int32_t>& c) {
      double v = 0;
      uint64_t used = 0;
      for (int l = 0; l < L; ++l) {
        v += cost[l][c[l]];
        used += uint64_t(c[l]) * weight[l];
      }
      return used <= budget ? v : 1e300;
    };
    double best = 1e300;
    std::vector<int32_t> c(L, 0);
    for (int code = 0; code < 125; ++code) {  // every combination of 0..4 per layer
      int x = code;
      for (int l = 0; l < 3; ++l, x /= 5)
        if (l < L) c[l] = x % 5;
      best = std::min(best, value(c));
    }
    EXPECT_DOUBLE_EQ(value(got), best) << "trial " << trial;
  }
}

TEST(Allocators, AdapMoeBeatsUniformOnTheTraceItFits) {
  // Layer 0 cycles through 3 experts, layer 1 is random over 8, layer 2 is constant.
  std::mt19937 rng(1);
  std::vector<std::vector<std::vector<int>>> r;
  for (int t = 0; t < 200; ++t) r.push_back({{t % 3}, {int(rng() % 8)}, {5}});
  const RoutingTrace t = testing::make_trace(r, 8);
  const auto adap = allocate_layers(AllocatorKind::kAdapMoe, t.shape, Budget::slots(6), &t);
  EXPECT_EQ(adap[0], 3);  // the whole cycle fits: only cold misses
  EXPECT_LE(adap[2], 1);
  const int64_t misses_adap = testing::run(t, "lru", CacheCapacity::per_layer(adap)).total().misses;
  const int64_t misses_uniform =
      testing::run(t, "lru", CacheCapacity::uniform(3, 2)).total().misses;
  EXPECT_LT(misses_adap, misses_uniform);
}

}  // namespace
}  // namespace moescope::policy
