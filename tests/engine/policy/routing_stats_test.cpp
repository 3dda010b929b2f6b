// Routing statistics on synthetic traces whose answers are known in closed form.
#include <gtest/gtest.h>

#include <cmath>

#include "engine/policy/routing_stats.h"
#include "engine/policy/synthetic_trace.h"
#include "tests/engine/policy/policy_test_util.h"

namespace moescope::policy {
namespace {

using testing::make_trace;

TEST(RoutingStats, LoadFairnessHotSetAndCoverage) {
  // Layer 0: expert 0 on every token (k = 1). Layer 1: experts cycle 0..3 evenly.
  std::vector<std::vector<std::vector<int>>> r;
  for (int t = 0; t < 40; ++t) r.push_back({{0}, {t % 4}});
  const RoutingStats s = routing_stats(make_trace(r, 4));
  EXPECT_EQ(s.layers[0].load, (std::vector<int64_t>{40, 0, 0, 0}));
  EXPECT_DOUBLE_EQ(s.layers[0].jain_fairness, 0.25);  // one expert of n: 1/n
  EXPECT_DOUBLE_EQ(s.layers[1].jain_fairness, 1.0);
  EXPECT_EQ(s.layers[0].hot_set_80, 1);
  EXPECT_EQ(s.layers[1].hot_set_80, 4);  // 3 experts cover 75 % < 80 %
  EXPECT_DOUBLE_EQ(s.layers[0].load_entropy_bits, 0.0);
  EXPECT_DOUBLE_EQ(s.layers[1].load_entropy_bits, 2.0);
  EXPECT_DOUBLE_EQ(s.layers[0].slots_used_share, 0.25);
  EXPECT_DOUBLE_EQ(s.slots_used_share, 5.0 / 8.0);
  EXPECT_TRUE(std::isnan(s.layers[0].router_entropy_bits));
}

TEST(RoutingStats, RouterEntropyOfUniformProbabilitiesIsLogN) {
  RoutingTraceBuilder b(MoeShape::uniform(1, 8, 1, 1), true);
  for (int t = 0; t < 5; ++t) {
    b.begin_token(Phase::kDecode);
    b.add_layer(std::vector<ExpertId>{ExpertId(t % 8)}, std::vector<float>{1.0f},
                std::vector<float>(8, 0.125f));
  }
  EXPECT_NEAR(routing_stats(b.finish()).layers[0].router_entropy_bits, 3.0, 1e-9);
}

TEST(RoutingStats, MutualInformationOfIndependentAndDeterministicLayers) {
  // Independent uniform layers: MI ~ 0 (plug-in bias ~ (E-1)^2 / (2 N ln 2) = 1e-3 bits here).
  const RoutingTrace independent = synthetic_trace({.kind = SyntheticSpec::Kind::kUniform,
                                                    .n_layers = 2,
                                                    .n_experts = 8,
                                                    .top_k = 1,
                                                    .n_tokens = 20000,
                                                    .seed = 3});
  EXPECT_LT(top1_mutual_information(independent, LayerId(0)), 0.01);
  EXPECT_NEAR(top1_entropy(independent, LayerId(0)), 3.0, 0.01);
  // Top-1 at layer 1 a fixed permutation of layer 0's: MI = H(layer 0) exactly.
  const RoutingTrace mapped = synthetic_trace({.kind = SyntheticSpec::Kind::kZipf,
                                               .n_layers = 2,
                                               .n_experts = 8,
                                               .top_k = 2,
                                               .n_tokens = 3000,
                                               .seed = 4,
                                               .affinity = 1.0});
  EXPECT_NEAR(top1_mutual_information(mapped, LayerId(0)), top1_entropy(mapped, LayerId(0)), 1e-9);
  EXPECT_GT(top1_entropy(mapped, LayerId(0)), 2.0);
  // ... and each row of the top-1 part of the affinity matrix has its mass on the successor.
  const std::vector<double> a = affinity_matrix(mapped, LayerId(0));
  for (int i = 0; i < 8; ++i) {
    double row = 0;
    for (int j = 0; j < 8; ++j) row += a[i * 8 + j];
    EXPECT_TRUE(std::abs(row - 1.0) < 1e-9 || row == 0.0) << row;
  }
}

TEST(RoutingStats, SegmentRoutingPerformanceKnownAnswers) {
  std::vector<std::vector<std::vector<int>>> constant, alternating, blocks;
  for (int t = 0; t < 40; ++t) {
    constant.push_back({{1, 2}});
    alternating.push_back({{t % 2}});
  }
  // Blocks of 4 (a a a a b b b b ...), 43 tokens: the 40 windows of 4 start at every offset of
  // the period equally often; covered share 1, 3/4, 1/2, 3/4 -> mean 3/4.
  for (int t = 0; t < 43; ++t) blocks.push_back({{(t / 4) % 2}});
  for (int m : {4, 16, 64}) {
    const SegmentScore s = segment_routing_performance(make_trace(constant, 4), m);
    if (m <= 40)
      EXPECT_DOUBLE_EQ(s.per_layer[0], 1.0) << m;
    else
      EXPECT_TRUE(std::isnan(s.per_layer[0]));
  }
  EXPECT_DOUBLE_EQ(segment_routing_performance(make_trace(alternating, 2), 2).mean, 0.5);
  EXPECT_DOUBLE_EQ(segment_routing_performance(make_trace(alternating, 2), 1).mean, 1.0);
  EXPECT_DOUBLE_EQ(segment_routing_performance(make_trace(blocks, 2), 4).mean, 0.75);
}

TEST(RoutingStats, SegmentCacheHitRateKnownAnswers) {
  // Constant routing: only the k cold misses of each layer.
  std::vector<std::vector<std::vector<int>>> constant;
  for (int t = 0; t < 50; ++t) constant.push_back({{1, 2}, {0, 3}});
  EXPECT_DOUBLE_EQ(segment_cache_hit_rate(make_trace(constant, 4), 16, 2).mean, 98.0 / 100.0);
  // Runs of one expert (k = 1, one slot): every run starts with exactly one miss, whatever m.
  std::vector<std::vector<std::vector<int>>> runs;
  for (int t = 0; t < 60; ++t) runs.push_back({{(t / 5) % 3}});
  for (int m : {1, 4, 16})
    EXPECT_DOUBLE_EQ(segment_cache_hit_rate(make_trace(runs, 3), m, 1).mean, 48.0 / 60.0);
  // A cycle 0 1 2 0 1 2 ... with 2 slots. m = 1 sees which resident comes next and keeps it:
  // after the 3 cold misses every other access hits (30 of 62). m = 2 sees both residents once,
  // falls back to LRU and drops the one needed next, every time but the last (token 62 is past
  // the end, so at token 60 only one resident is still needed): 1 hit.
  std::vector<std::vector<std::vector<int>>> cycle;
  for (int t = 0; t < 62; ++t) cycle.push_back({{t % 3}});
  EXPECT_DOUBLE_EQ(segment_cache_hit_rate(make_trace(cycle, 3), 1, 2).mean, 30.0 / 62.0);
  EXPECT_DOUBLE_EQ(segment_cache_hit_rate(make_trace(cycle, 3), 2, 2).mean, 1.0 / 62.0);
}

}  // namespace
}  // namespace moescope::policy
