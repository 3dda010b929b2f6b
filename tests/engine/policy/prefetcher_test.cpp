// Prefetchers through the simulator: prediction quality, late and wasted prefetches.
#include <gtest/gtest.h>

#include "engine/policy/policies.h"
#include "engine/policy/synthetic_trace.h"
#include "tests/engine/policy/policy_test_util.h"

namespace moescope::policy {
namespace {

using testing::make_trace;
using testing::run;

// Replays t with LRU and a next-gate prefetcher whose "gate" is the given function.
CacheReport run_next_gate(const RoutingTrace& t, const CacheCapacity& cap, ProbeSource source,
                          TimingModel timing = {}) {
  auto pf = std::make_unique<NextGatePrefetcher>(1, 0);
  pf->set_probe_source(std::move(source));
  CacheSimulator sim(t.shape, cap, make_lru(), std::move(pf), timing);
  return replay(t, AccessStream::build(t), sim);
}

ProbeSource oracle_gate(const RoutingTrace& t) {
  return [&t](PrefetchTarget target, int32_t, std::vector<ExpertId>& out) {
    out.clear();
    if (target.token.value >= t.n_tokens()) return;
    for (ExpertId e : t.experts(target.token, target.layer)) out.push_back(e);
  };
}

TEST(Prefetchers, PerfectGateTurnsEveryLaterAccessIntoAHit) {
  const RoutingTrace t = synthetic_trace({.kind = SyntheticSpec::Kind::kUniform,
                                          .n_layers = 4,
                                          .n_experts = 16,
                                          .top_k = 2,
                                          .n_tokens = 50});
  const CacheCounters c = run_next_gate(t, CacheCapacity::uniform(4, 4), oracle_gate(t)).total();
  EXPECT_EQ(c.misses, 2);  // only token 0's first layer was not predicted
  EXPECT_DOUBLE_EQ(c.precision(), 1.0);
  EXPECT_DOUBLE_EQ(c.recall(), 1.0);
  EXPECT_GT(c.prefetch_issued, 0);
  EXPECT_EQ(c.prefetch_used, c.prefetch_issued);  // nothing evicts a prefetch before its layer
  EXPECT_EQ(c.prefetch_wasted, 0);
  EXPECT_EQ(c.prefetch_late, 0);  // the default link loads instantly
}

TEST(Prefetchers, SlowLinksMakePrefetchesLateAndComputeHidesThem) {
  const RoutingTrace t = synthetic_trace({.kind = SyntheticSpec::Kind::kUniform,
                                          .n_layers = 4,
                                          .n_experts = 16,
                                          .top_k = 2,
                                          .n_tokens = 30,
                                          .expert_bytes = 1'000'000});
  LinkModel link{"test", 1e9, 0};  // 1 ms per expert
  // 0.5 ms of compute cannot hide two 1 ms loads: late prefetches and stalls.
  const CacheCounters slow =
      run_next_gate(t, CacheCapacity::uniform(4, 4), oracle_gate(t), {link, 500'000, 0}).total();
  EXPECT_GT(slow.prefetch_late, 0);
  EXPECT_GT(slow.stall_ns, 2'000'000);
  // 10 ms of compute hides them: only token 0's first layer stalls (two demand loads, 2 ms).
  const CacheCounters fast =
      run_next_gate(t, CacheCapacity::uniform(4, 4), oracle_gate(t), {link, 10'000'000, 0}).total();
  EXPECT_EQ(fast.prefetch_late, 0);
  EXPECT_EQ(fast.stall_ns, 2'000'000);
}

TEST(Prefetchers, WrongPredictionsAreWasted) {
  // Routing never uses expert 7; a gate that always predicts it wastes every prefetch.
  std::vector<std::vector<std::vector<int>>> r;
  for (int t = 0; t < 20; ++t) r.push_back({{t % 3}, {t % 2}});
  const RoutingTrace t = make_trace(r, 8);
  const CacheCounters c = run_next_gate(t, CacheCapacity::uniform(2, 1),
                                        [](PrefetchTarget, int32_t, std::vector<ExpertId>& out) {
                                          out = {ExpertId(7)};
                                        })
                              .total();
  EXPECT_DOUBLE_EQ(c.precision(), 0.0);
  EXPECT_EQ(c.prefetch_used, 0);
  EXPECT_GT(c.prefetch_wasted, 0);
  EXPECT_EQ(c.prefetch_wasted_bytes, c.prefetch_wasted * 1000);
  EXPECT_EQ(c.hits, 0);  // each prefetch evicted the one slot's useful expert
}

TEST(Prefetchers, SameAsPreviousTokenAndFrequencyWindowOfOne) {
  // Constant routing: yesterday's experts are today's.
  std::vector<std::vector<std::vector<int>>> constant, alternating;
  for (int t = 0; t < 20; ++t) {
    constant.push_back({{1, 2}, {0, 3}});
    alternating.push_back({{t % 2 ? 0 : 1}, {t % 2 ? 2 : 3}});
  }
  const CacheCounters c =
      run(make_trace(constant, 4), "lru", CacheCapacity::uniform(2, 2), {.prefetcher = "same-prev"})
          .total();
  EXPECT_DOUBLE_EQ(c.precision(), 1.0);
  // 39 targets of 2 experts; the first (token 0, layer 1) had no previous token to copy.
  EXPECT_DOUBLE_EQ(c.recall(), 76.0 / 78.0);
  EXPECT_EQ(c.prefetch_issued, 0);  // always resident already
  const CacheCounters a = run(make_trace(alternating, 4), "lru", CacheCapacity::uniform(2, 2),
                              {.prefetcher = "same-prev"})
                              .total();
  EXPECT_DOUBLE_EQ(a.precision(), 0.0);
  // A frequency prior over a window of one token predicts exactly what same-prev does.
  const RoutingTrace z =
      synthetic_trace({.n_layers = 3, .n_experts = 8, .top_k = 2, .n_tokens = 80});
  const CacheReport same = run(z, "lru", CacheCapacity::uniform(3, 3), {.prefetcher = "same-prev"});
  const CacheReport freq1 = run(z, "lru", CacheCapacity::uniform(3, 3), {.prefetcher = "freq:2:1"});
  EXPECT_EQ(same.total().prefetch_correct, freq1.total().prefetch_correct);
  EXPECT_EQ(same.total().prefetch_predicted, freq1.total().prefetch_predicted);
}

TEST(Prefetchers, AffinityAndPathLearnInterLayerStructure) {
  // k = 1 and the next layer's expert is a function of this layer's: only the token boundary
  // (last layer -> next token's first) is unpredictable, so precision >= (L-1)/L.
  const RoutingTrace t = synthetic_trace({.kind = SyntheticSpec::Kind::kZipf,
                                          .n_layers = 4,
                                          .n_experts = 16,
                                          .top_k = 1,
                                          .n_tokens = 1200,
                                          .zipf_s = 0.5,
                                          .affinity = 1.0});
  const RoutingTrace fit = testing::slice(t, 0, 600), eval = testing::slice(t, 600, 1200);
  testing::RunOptions o;
  o.history = &fit;
  auto precision = [&](const char* pf) {
    o.prefetcher = pf;
    return run(eval, "lru", CacheCapacity::uniform(4, 2), o).total().precision();
  };
  const double online = precision("affinity:1"), fitted = precision("affinity-fit:1");
  const double path = precision("path:1"), freq = precision("freq:1:64");
  EXPECT_GE(online, 0.7);
  EXPECT_GE(fitted, 0.74);
  EXPECT_GE(path, 0.74);
  EXPECT_LT(freq, 0.5);
}

}  // namespace
}  // namespace moescope::policy
