// Routing statistics on synthetic traces whose answers are known in closed form.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <numeric>

#include "engine/policy/policies.h"
#include "engine/policy/routing_stats.h"
#include "engine/policy/synthetic_trace.h"
#include "tests/engine/policy/paper_reference.h"
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
  EXPECT_LT(top1_mutual_information(independent, MoeLayerId(0)), 0.01);
  EXPECT_NEAR(top1_entropy(independent, MoeLayerId(0)), 3.0, 0.01);
  // Top-1 at layer 1 a fixed permutation of layer 0's: MI = H(layer 0) exactly.
  const RoutingTrace mapped = synthetic_trace({.kind = SyntheticSpec::Kind::kZipf,
                                               .n_layers = 2,
                                               .n_experts = 8,
                                               .top_k = 2,
                                               .n_tokens = 3000,
                                               .seed = 4,
                                               .affinity = 1.0});
  EXPECT_NEAR(top1_mutual_information(mapped, MoeLayerId(0)), top1_entropy(mapped, MoeLayerId(0)),
              1e-9);
  EXPECT_GT(top1_entropy(mapped, MoeLayerId(0)), 2.0);
  // ... and each row of the top-1 part of the affinity matrix has its mass on the successor.
  const std::vector<double> a = affinity_matrix(mapped, MoeLayerId(0));
  for (int i = 0; i < 8; ++i) {
    double row = 0;
    for (int j = 0; j < 8; ++j) row += a[i * 8 + j];
    EXPECT_TRUE(std::abs(row - 1.0) < 1e-9 || row == 0.0) << row;
  }
}

// Two experts alternating in blocks of b tokens (k = 1, n = 4): expert (t / b) % 2, and
// T = 2b + m - 1 tokens, so the T - m + 1 = 2b segments start once at every offset of the period.
RoutingTrace blocks(int b, int m) {
  std::vector<std::vector<std::vector<int>>> r;
  for (int t = 0; t < 2 * b + m - 1; ++t) r.push_back({{(t / b) % 2}});
  return make_trace(r, 4);
}

TEST(RoutingStats, SrpOfThePaperOnHandBuiltRoutings) {
  // One fixed set routed on every token: the set predicted at j >= 1 is exactly right, F1 = 1.
  std::vector<std::vector<std::vector<int>>> constant, alternating;
  for (int t = 0; t < 300; ++t) {
    constant.push_back({{1, 2}, {3, 0}});
    alternating.push_back({{t % 2}});
  }
  for (int m : {4, 16, 64, 256}) {
    const SrpScore s = segment_routing_performance(make_trace(constant, 4), m);
    EXPECT_EQ(s.per_layer, (std::vector<double>{1.0, 1.0})) << m;
    EXPECT_EQ(s.model, 1.0);
    EXPECT_EQ(s.model_threshold, 1);
    // Alternating 0 1 0 1 (n = 4, k = 1), m even: every segment routes m/2 tokens to each of
    // experts 0 and 1. j = 0 predicts all 4 experts: F1 = 2m / (4m + m) = 2/5; 1 <= j <= m/2
    // predicts {0, 1}: M = m, P = 2m, A = m, F1 = 2m / 3m = 2/3; j > m/2 predicts nothing.
    // (The best-k coverage MoEScope used to call SRP reads 1/2 here.)
    const RoutingTrace alt = make_trace(alternating, 4);
    EXPECT_DOUBLE_EQ(segment_routing_performance(alt, m).model, 2.0 / 3.0) << m;
    EXPECT_DOUBLE_EQ(best_k_window_coverage(alt, m).mean_of_layers, 0.5) << m;
  }
  // Blocks of b: per period of 2b segments, 2(b - m + 1) lie inside a block (one expert routed
  // m times) and 2(m - 1) straddle two blocks (counts a and m - a, a = 1..m-1), so each count
  // v = 1..m-1 occurs 4 times, count m occurs 2(b - m + 1) times, and A = 2b m. For a
  // threshold j >= 1: sets(j) = 2(b - m + 1) + 4(m - j), P = m sets(j),
  // M(j) = 2(b - m + 1) m + 4 (j + ... + (m - 1)), F1 = 2M / (P + A).
  // m = 4, b = 8: j = 1: 128/152, j = 2: sets 18, M 60 -> 120/136 = 15/17, j = 3: 104/120,
  // j = 4: 80/104.
  EXPECT_DOUBLE_EQ(segment_routing_performance(blocks(8, 4), 4).model, 15.0 / 17.0);
  EXPECT_EQ(segment_routing_performance(blocks(8, 4), 4).model_threshold, 2);
  // m = 16, b = 64: j = 8: sets 130, M = 1568 + 4 * 92 = 1936, F1 = 3872 / (2080 + 2048)
  // = 121/129 (j = 7: 3928/4192, j = 9: 3808/4064 are lower).
  EXPECT_DOUBLE_EQ(segment_routing_performance(blocks(64, 16), 16).model, 121.0 / 129.0);
  // m = b = 64: j = 25: sets 2 + 4 * 39 = 158, M = 128 + 2 * (63 + 25) * 39 = 6992,
  // F1 = 13984 / (64 * 158 + 8192) = 437/572.
  EXPECT_DOUBLE_EQ(segment_routing_performance(blocks(64, 64), 64).model, 437.0 / 572.0);
  EXPECT_EQ(segment_routing_performance(blocks(64, 64), 64).model_threshold, 25);
  // m = b = 256: j = 98: sets 2 + 4 * 158 = 634, M = 512 + 2 * (255 + 98) * 158 = 112060,
  // F1 = 224120 / (256 * 634 + 131072) = 28015/36672.
  EXPECT_DOUBLE_EQ(segment_routing_performance(blocks(256, 256), 256).model, 28015.0 / 36672.0);
  // Shorter than m: no value.
  EXPECT_TRUE(std::isnan(segment_routing_performance(blocks(8, 4), 64).model));
}

TEST(RoutingStats, ModelLevelSrpPoolsLayersWithOneThreshold) {
  // Layer 0 constant (its own best F1 = 1 at any j in 1..m), layer 1 alternating (2/3 at
  // 1 <= j <= m/2). Pooled, m = 4 and n = 4 per layer: j in 1..2 gives M = 4 + 4 = 8 per segment,
  // P = 4 + 8 = 12, A = 8: F1 = 16/20 = 4/5 (j = 0: 16/40, j = 3, 4: 8/(4 + 8) = 2/3).
  std::vector<std::vector<std::vector<int>>> r;
  for (int t = 0; t < 40; ++t) r.push_back({{3}, {t % 2}});
  const SrpScore s = segment_routing_performance(make_trace(r, 4), 4);
  EXPECT_DOUBLE_EQ(s.per_layer[0], 1.0);
  EXPECT_DOUBLE_EQ(s.per_layer[1], 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(s.model, 4.0 / 5.0);
  EXPECT_DOUBLE_EQ(srp_floor(make_trace(r, 4).shape), 2.0 * 2 / (8 + 2));
}

TEST(RoutingStats, SrpAndSchEqualTheBruteForceReferenceOnZipfTraces) {
  for (uint64_t seed : {1u, 2u}) {
    const RoutingTrace trace = synthetic_trace({.kind = SyntheticSpec::Kind::kBursty,
                                                .n_layers = 3,
                                                .n_experts = 8,
                                                .top_k = 2,
                                                .n_tokens = 300,
                                                .seed = seed});
    for (int m : {4, 16, 64, 256}) {
      const SrpScore s = segment_routing_performance(trace, m);
      EXPECT_NEAR(s.model, testing::reference_srp(trace, m, {0, 1, 2}), 1e-15) << m;
      for (int l = 0; l < 3; ++l)
        EXPECT_NEAR(s.per_layer[size_t(l)], testing::reference_srp(trace, m, {l}), 1e-15);
      for (int slots : {2, 4}) {  // k and 2k
        const SchScore h = segment_cache_hit_rate(trace, m, slots);
        EXPECT_NEAR(h.per_layer_caches,
                    testing::reference_sch(trace, m, {slots, slots, slots}, false), 1e-15)
            << m << " " << slots;
        EXPECT_NEAR(h.model, testing::reference_sch(trace, m, {3 * slots}, true), 1e-15)
            << m << " " << slots;
      }
    }
  }
}

// The SCH-window(m) policy run by the general cache simulator (how segment_cache_hit_rate was
// computed before its one-pass simulator): hits and accesses of the selected phases, per layer
// with per-layer caches, and with one global pool of total_slots.
struct SimulatedSch {
  std::vector<CacheCounters> per_layer;
  CacheCounters global;
};
SimulatedSch simulate_sch(const RoutingTrace& t, int32_t m, const std::vector<int32_t>& slots,
                          PhaseFilter filter) {
  auto stream = std::make_shared<const AccessStream>(AccessStream::build(t, {1}));
  auto counted = [&](const CacheReport& r, int32_t l) {
    CacheCounters c;
    for (Phase p : {Phase::kPrefill, Phase::kDecode})
      if (phase_selected(filter, p)) c += r.layer[int(p)][size_t(l)];
    return c;
  };
  SimulatedSch out;
  CacheSimulator layers(t.shape, CacheCapacity::per_layer(slots), make_sch(stream, m));
  const CacheReport& r = replay(t, *stream, layers);
  const int64_t total = std::accumulate(slots.begin(), slots.end(), int64_t{0});
  CacheSimulator pool(t.shape, CacheCapacity::global_slots(uint64_t(total)), make_sch(stream, m));
  const CacheReport& g = replay(t, *stream, pool);
  for (int32_t l = 0; l < t.n_layers(); ++l) {
    out.per_layer.push_back(counted(r, l));
    out.global += counted(g, l);
  }
  return out;
}

double rate(const CacheCounters& c) {
  return c.accesses ? double(c.hits) / double(c.accesses) : std::nan("");
}

void expect_same_rate(double fast, double simulated, const std::string& what) {
  if (std::isnan(simulated)) {
    EXPECT_TRUE(std::isnan(fast)) << what;
  } else {
    EXPECT_DOUBLE_EQ(fast, simulated) << what;
  }
}

// One SCH configuration: the one-pass rates equal the simulated policy's, per layer, over the
// per-layer caches and in one pool. Returns the simulation's bypasses.
int64_t expect_sch_equals_simulation(const SchScore& fast, const RoutingTrace& t, int32_t m,
                                     const std::vector<int32_t>& config, PhaseFilter f,
                                     const std::string& what) {
  const SimulatedSch sim = simulate_sch(t, m, config, f);
  CacheCounters all;
  for (int32_t l = 0; l < t.n_layers(); ++l) {
    expect_same_rate(fast.per_layer[size_t(l)], rate(sim.per_layer[size_t(l)]),
                     what + " layer " + std::to_string(l));
    all += sim.per_layer[size_t(l)];
  }
  expect_same_rate(fast.per_layer_caches, rate(all), what + " per-layer caches");
  expect_same_rate(fast.model, rate(sim.global), what + " one pool");
  return sim.global.bypasses + all.bypasses;
}

TEST(RoutingStats, OnePassSchEqualsTheSimulatedSchPolicy) {
  using K = SyntheticSpec::Kind;
  const std::vector<std::vector<int32_t>> configs = {
      {3, 3, 3, 3}, {6, 6, 6, 6}, {0, 1, 3, 12}, {5, 2, 7, 4}};
  uint64_t seed = 20;
  for (K kind : {K::kUniform, K::kZipf, K::kBursty}) {
    const RoutingTrace t = synthetic_trace({.kind = kind,
                                            .n_layers = 4,
                                            .n_experts = 12,
                                            .top_k = 3,
                                            .n_tokens = 500,
                                            .n_prefill = 30,
                                            .seed = ++seed,
                                            .burst_len = 10,
                                            .affinity = 0.5});
    for (int32_t m : {1, 3, 16, 64}) {
      for (PhaseFilter f : {PhaseFilter::kAll, PhaseFilter::kPrefill, PhaseFilter::kDecode}) {
        const std::vector<SchScore> fast = segment_cache_hit_rates(t, m, configs, f);
        ASSERT_EQ(fast.size(), configs.size());
        for (size_t c = 0; c < configs.size(); ++c) {
          const std::string what = "m " + std::to_string(m) + " config " + std::to_string(c) +
                                   " filter " + std::to_string(int(f));
          expect_sch_equals_simulation(fast[c], t, m, configs[c], f, what);
        }
      }
    }
  }
}

// Pools of more than 32 slots (found through the min-tournament tree, not a scan), including ones
// smaller than a step's experts: the step's experts still to come must be kept (pinned when they
// would be the victim), and an access bypasses when every resident is one of them.
TEST(RoutingStats, OnePassSchEqualsTheSimulatedSchPolicyWithLargePools) {
  const std::vector<std::vector<int32_t>> configs = {{20, 20}, {17, 17}, {40, 3}, {64, 64}};
  int64_t bypasses = 0;  // every resident still needed by the step: the case is exercised
  for (SyntheticSpec::Kind kind : {SyntheticSpec::Kind::kZipf, SyntheticSpec::Kind::kBursty}) {
    const RoutingTrace t = synthetic_trace({.kind = kind,
                                            .n_layers = 2,
                                            .n_experts = 64,
                                            .top_k = 40,
                                            .n_tokens = 120,
                                            .n_prefill = 8,
                                            .seed = 31,
                                            .burst_len = 6,
                                            .affinity = 0.4});
    for (int32_t m : {1, 4, 32}) {
      const std::vector<SchScore> fast = segment_cache_hit_rates(t, m, configs);
      for (size_t c = 0; c < configs.size(); ++c) {
        const std::string what = "m " + std::to_string(m) + " config " + std::to_string(c);
        bypasses +=
            expect_sch_equals_simulation(fast[c], t, m, configs[c], PhaseFilter::kAll, what);
      }
    }
  }
  EXPECT_GT(bypasses, 0);
}

// Best-k window coverage against its definition: every window's counts sorted afresh.
TEST(RoutingStats, WindowCoverageEqualsSortingEveryWindow) {
  const RoutingTrace t = synthetic_trace({.kind = SyntheticSpec::Kind::kBursty,
                                          .n_layers = 2,
                                          .n_experts = 10,
                                          .top_k = 3,
                                          .n_tokens = 400,
                                          .seed = 3,
                                          .burst_len = 8});
  for (int32_t m : {1, 4, 16, 64}) {
    const WindowCoverage w = best_k_window_coverage(t, m);
    for (int32_t l = 0; l < 2; ++l) {
      double sum = 0;
      int windows = 0;
      for (int s = 0; s + m <= int(t.n_tokens()); ++s) {
        std::vector<int64_t> c(10, 0);
        int64_t all = 0;
        for (int u = s; u < s + m; ++u)
          for (ExpertId e : t.experts(TokenPos(u), MoeLayerId(l))) {
            ++c[size_t(e.value)];
            ++all;
          }
        std::sort(c.begin(), c.end(), std::greater<>());
        sum += double(c[0] + c[1] + c[2]) / double(all);
        ++windows;
      }
      EXPECT_DOUBLE_EQ(w.per_layer[size_t(l)], sum / windows) << m << " " << l;
    }
  }
}

TEST(RoutingStats, SchKnownAnswers) {
  // Constant routing: only the k cold misses of each layer.
  std::vector<std::vector<std::vector<int>>> constant;
  for (int t = 0; t < 50; ++t) constant.push_back({{1, 2}, {0, 3}});
  EXPECT_DOUBLE_EQ(segment_cache_hit_rate(make_trace(constant, 4), 16, 2).per_layer_caches,
                   98.0 / 100.0);
  EXPECT_DOUBLE_EQ(segment_cache_hit_rate(make_trace(constant, 4), 16, 2).model,
                   98.0 / 100.0);  // one pool of 4: the same 4 cold misses
  // Runs of one expert (k = 1, one slot): every run starts with exactly one miss, whatever m.
  std::vector<std::vector<std::vector<int>>> runs;
  for (int t = 0; t < 60; ++t) runs.push_back({{(t / 5) % 3}});
  for (int m : {1, 4, 16})
    EXPECT_DOUBLE_EQ(segment_cache_hit_rate(make_trace(runs, 3), m, 1).model, 48.0 / 60.0);
  // A cycle 0 1 2 0 1 2 ... (k = 1), 62 tokens. With k = 1 slot it never hits. With 2k = 2
  // slots, at a miss on token t the residents are x(t-1) and x(t-2) = x(t+1):
  //  - m = 1: the segment [t, t+1) is token t alone, both residents count 0, LRU drops x(t-2),
  //    the one needed next: no hit;
  //  - m = 2: [t, t+2) sees x(t+1) once and x(t-1) not, keeps x(t+1): after the cold misses at
  //    t = 0, 1 every other token hits (t = 3, 5, ..., 61): 30 of 62;
  //  - m = 4: [t, t+4) uses each resident once after t, LRU drops the one needed next, except
  //    at t = 60 where [60, 62) holds only x(61): 1 hit;
  //  - m = 16: a full segment uses each resident 5 times (a tie, so LRU) until it runs past the
  //    end: with L = 61 - t tokens left, x(t+1) is used more than x(t+2) iff L = 1 mod 3, which
  //    happens at the misses t = 48, 51, 54, 57, 60: hits at 49, 52, 55, 58, 61, 5 of 62.
  std::vector<std::vector<std::vector<int>>> cycle;
  for (int t = 0; t < 62; ++t) cycle.push_back({{t % 3}});
  const RoutingTrace c = make_trace(cycle, 3);
  for (int m : {1, 2, 4, 16}) EXPECT_DOUBLE_EQ(segment_cache_hit_rate(c, m, 1).model, 0.0) << m;
  EXPECT_DOUBLE_EQ(segment_cache_hit_rate(c, 1, 2).model, 0.0);
  EXPECT_DOUBLE_EQ(segment_cache_hit_rate(c, 2, 2).model, 30.0 / 62.0);
  EXPECT_DOUBLE_EQ(segment_cache_hit_rate(c, 4, 2).model, 1.0 / 62.0);
  EXPECT_DOUBLE_EQ(segment_cache_hit_rate(c, 16, 2).model, 5.0 / 62.0);
}

}  // namespace
}  // namespace moescope::policy
