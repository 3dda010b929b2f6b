// The simulator's step in two halves, the step rule for demand misses, and shadow sets (live
// shadows and two-pass oracles) against direct replay.
#include <gtest/gtest.h>

#include "engine/common/error.h"
#include "engine/policy/shadow_set.h"
#include "engine/policy/synthetic_trace.h"
#include "tests/engine/policy/policy_test_util.h"

namespace moescope::policy {
namespace {

using testing::make_trace;

CacheSimulator make_sim(const RoutingTrace& t, const std::string& policy, CacheCapacity capacity,
                        TimingModel timing = {}, std::shared_ptr<const AccessStream> future = {}) {
  const PolicySpec spec = parse_policy_spec(policy);
  return CacheSimulator(t.shape, std::move(capacity), make_policy(spec, {std::move(future), {}}),
                        make_prefetcher("same-prev", {}), std::move(timing), spec.text);
}

// Feeds the trace's steps; the compute time of step i is `compute(i)`, passed at its end.
template <typename Compute>
void feed(const RoutingTrace& t, const AccessStream& s, CacheSimulator& sim, Compute compute) {
  std::vector<TokenLayerRouting> routing;
  std::vector<ExpertId> experts;
  for (size_t i = 0; i < s.steps.size(); ++i) {
    sim.begin_step(testing::live_step(t, s, s.steps[i], routing, experts));
    sim.end_step(compute(i));
  }
}

TEST(SimulatorStep, BeginAndEndEqualOneStepWithTheComputeTime) {
  RoutingTrace t = synthetic_trace({.kind = SyntheticSpec::Kind::kZipf,
                                    .n_layers = 3,
                                    .n_experts = 8,
                                    .top_k = 2,
                                    .n_tokens = 60,
                                    .n_prefill = 8,
                                    .seed = 5});
  const AccessStream s = AccessStream::build(t);
  // Compute times known only at the end of each step, as a live cache learns them.
  auto compute = [](size_t i) { return int64_t(300'000 + (i * 7919) % 500'000); };
  TimingModel timing;
  timing.link = LinkModel::preset("sata-ssd");
  CacheSimulator live = make_sim(t, "lru", CacheCapacity::uniform(3, 3), timing);
  feed(t, s, live, compute);
  // The same times recorded in the trace (a prefill chunk's on its first token): replay equals.
  t.compute_ns.assign(size_t(t.n_tokens()) * 3, 0);
  for (size_t i = 0; i < s.steps.size(); ++i)
    t.compute_ns[size_t(s.steps[i].first_token.value) * 3 + size_t(s.steps[i].layer.value)] =
        compute(i);
  CacheSimulator replayed = make_sim(t, "lru", CacheCapacity::uniform(3, 3), timing);
  EXPECT_TRUE(replay(t, s, replayed) == live.report());
  EXPECT_GT(live.report().total().stall_ns, 0);
  // Different compute times give different modelled time (the test can fail).
  CacheSimulator other = make_sim(t, "lru", CacheCapacity::uniform(3, 3), timing);
  feed(t, s, other, [](size_t) { return int64_t(-1); });
  EXPECT_NE(other.report().end_ns, live.report().end_ns);
}

TEST(SimulatorStep, HalvesMustAlternate) {
  const RoutingTrace t = make_trace({{{0, 1}}}, 4);
  CacheSimulator sim = make_sim(t, "lru", CacheCapacity::uniform(1, 2));
  EXPECT_THROW(sim.end_step(0), Error);
  const std::vector<ExpertId> experts{ExpertId(0), ExpertId(1)};
  const std::vector<TokenLayerRouting> routing{t.routing(TokenPos(0), MoeLayerId(0))};
  sim.begin_step({TokenPos(0), 1, MoeLayerId(0), Phase::kDecode, experts, routing});
  EXPECT_TRUE(sim.in_step());
  EXPECT_THROW(sim.begin_step({TokenPos(0), 1, MoeLayerId(0), Phase::kDecode, experts, routing}),
               Error);
  sim.end_step(-1);
  EXPECT_FALSE(sim.in_step());
}

TEST(SimulatorStep, AMissNeverEvictsAnExpertItsStepHasYetToUse) {
  // One slot. Token 1 routes (0, 1) with 1 resident from token 0: evicting 1 for 0 would make
  // 1 a second miss; 0 bypasses and 1 hits instead.
  const RoutingTrace t = make_trace({{{1}}, {{0, 1}}, {{0}}}, 4);
  const CacheReport r = testing::run(t, "lru", CacheCapacity::uniform(1, 1));
  EXPECT_EQ(r.token[1].hits, 1);
  EXPECT_EQ(r.token[1].bypasses, 1);
  EXPECT_EQ(r.token[1].evictions, 0);
  // An expert the step already used may leave: token 2's 0 evicts 1 (used by token 1).
  EXPECT_EQ(r.token[2].misses, 1);
  EXPECT_EQ(r.token[2].evictions, 1);
  // Within a step the used one leaves for a later miss: (2, 3) with one slot keeps 3.
  const RoutingTrace u = make_trace({{{2, 3}}, {{3}}}, 4);
  const CacheReport ru = testing::run(u, "lru", CacheCapacity::uniform(1, 1));
  EXPECT_EQ(ru.token[0].misses, 2);
  EXPECT_EQ(ru.token[0].bypasses, 0);
  EXPECT_EQ(ru.token[1].hits, 1);
}

TEST(ShadowSet, LiveShadowsAndTwoPassOraclesEqualDirectReplay) {
  const RoutingTrace t = synthetic_trace({.kind = SyntheticSpec::Kind::kBursty,
                                          .n_layers = 3,
                                          .n_experts = 10,
                                          .top_k = 3,
                                          .n_tokens = 80,
                                          .n_prefill = 12,
                                          .seed = 9,
                                          .burst_len = 5});
  const auto stream = std::make_shared<AccessStream>(AccessStream::build(t));
  ShadowSetup setup;
  setup.shape = t.shape;
  setup.budget = Budget::slots(12);
  setup.timing.link = LinkModel::preset("nvme");
  const std::vector<ShadowSpec> specs = parse_shadow_specs(
      "lru, fifo-global, lfu:0.9@none, belady, sch:3, opt-global@freq:2", "same-prev");
  ASSERT_EQ(specs.size(), 6u);
  EXPECT_EQ(specs[2].prefetcher, "none");
  EXPECT_EQ(specs[5].prefetcher, "freq:2");
  EXPECT_EQ(specs[0].prefetcher, "same-prev");
  ShadowSet set(setup, specs);
  EXPECT_TRUE(set.recording());  // oracles need the recorded stream

  auto compute = [](size_t i) { return int64_t(100'000 + 977 * int64_t(i % 13)); };
  std::vector<TokenLayerRouting> routing;
  std::vector<ExpertId> experts;
  for (size_t i = 0; i < stream->steps.size(); ++i) {
    set.begin_step(testing::live_step(t, *stream, stream->steps[i], routing, experts));
    set.end_step(compute(i));
  }
  const AccessStream recorded = set.recorded_stream();
  EXPECT_EQ(recorded.accesses, stream->accesses);
  ASSERT_EQ(recorded.steps.size(), stream->steps.size());

  const std::vector<ShadowResult> results = set.results();
  ASSERT_EQ(results.size(), specs.size());
  for (size_t i = 0; i < specs.size(); ++i) {
    SCOPED_TRACE(specs[i].policy);
    const PolicySpec spec = parse_policy_spec(specs[i].policy);
    EXPECT_EQ(results[i].oracle, spec.oracle);
    CacheSimulator sim(t.shape, make_capacity(spec.pool, setup.budget, t.shape),
                       make_policy(spec, {stream, nullptr}),
                       make_prefetcher(specs[i].prefetcher, {}), setup.timing, spec.text);
    feed(t, *stream, sim, compute);
    EXPECT_TRUE(sim.report() == results[i].report);
    EXPECT_GT(results[i].report.total().hits, 0);
  }
  // Belady bounds the exact per-layer policies at the same capacity.
  EXPECT_GE(results[3].report.total().hits, results[0].report.total().hits);
}

TEST(ShadowSet, BadSpecsAreErrors) {
  EXPECT_THROW(parse_shadow_specs("lru,,fifo", "none"), Error);
  EXPECT_THROW(parse_shadow_specs("nosuch", "none"), Error);
  EXPECT_THROW(parse_shadow_specs("lru@", "none"), Error);
  ShadowSetup setup;
  setup.shape = MoeShape::uniform(2, 4, 1, 100);
  setup.budget = Budget::slots(2);
  EXPECT_THROW(ShadowSet(setup, {{"lru", "nosuch"}}), Error);
  EXPECT_THROW(ShadowSet(setup, {{"static-freq", "none"}}), Error);  // needs a trace
}

}  // namespace
}  // namespace moescope::policy
