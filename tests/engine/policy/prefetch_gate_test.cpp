// The prefetch cost model (prefetch_gate.h) and the rule that prefetched bytes never evict an
// expert needed sooner: hand-derived numbers and small replays with a scripted predictor (a
// next-gate prefetcher whose probes come from the trace itself, right or deliberately wrong).
#include <gtest/gtest.h>

#include <functional>

#include "engine/policy/prefetch_gate.h"
#include "policy_test_util.h"

namespace moescope::policy {
namespace {

LinkModel gigabyte_link() {
  return LinkModel{"test", 1e9, 0};
}  // 1 byte per ns

// The expert the trace routes to at `at` (top-1), or -1 past its end.
int routed_at(const RoutingTrace& trace, PrefetchTarget at) {
  if (at.token.value >= int32_t(trace.phase.size())) return -1;
  return trace.routing(at.token, at.layer).experts[0].value;
}

TEST(PrefetchGate, PaysOnlyWhenTheExpectedSavingExceedsTheCost) {
  const LinkModel link = gigabyte_link();
  // 1000 bytes = 1000 ns. Saving p·T against (1-p)·T: pays above p = 1/2.
  EXPECT_TRUE(prefetch_pays(link, {1000, 0.6, 0, 0}));    // 600 > 400
  EXPECT_FALSE(prefetch_pays(link, {1000, 0.5, 0, 0}));   // 500 = 500
  EXPECT_FALSE(prefetch_pays(link, {1000, 0.25, 0, 0}));  // 250 < 750
  // An eviction whose victim comes back one time in four adds 0.25 · 1000.
  EXPECT_FALSE(prefetch_pays(link, {1000, 0.6, 1000, 0.25}));  // 600 < 400 + 250
  EXPECT_TRUE(prefetch_pays(link, {1000, 0.7, 1000, 0.25}));   // 700 > 300 + 250
  // A victim twice as large costs twice as much: 800 > 200 + 0.25 · 2000 = 700.
  EXPECT_TRUE(prefetch_pays(link, {1000, 0.8, 2000, 0.25}));
  EXPECT_FALSE(prefetch_pays(link, {1000, 0.7, 2000, 0.25}));  // 700 < 300 + 500
  // Latency is part of the time: 10 us + 1000 ns each way changes nothing in the ratio...
  EXPECT_TRUE(prefetch_pays(LinkModel{"slow", 1e9, 10'000}, {1000, 0.6, 0, 0}));
  // ...but it makes a small victim as costly as a large one: 0.25 · (10 000 + 10) vs
  // 0.7 · 11 000 - 0.3 · 11 000 = 4400 > 2502.5, pays; with regret 0.5: 4400 < 5005, does not.
  EXPECT_TRUE(prefetch_pays(LinkModel{"slow", 1e9, 10'000}, {1000, 0.7, 10, 0.25}));
  EXPECT_FALSE(prefetch_pays(LinkModel{"slow", 1e9, 10'000}, {1000, 0.7, 10, 0.5}));
  // On an unlimited link the bytes are the cost: the same thresholds.
  EXPECT_TRUE(prefetch_pays(LinkModel{}, {1000, 0.6, 0, 0}));
  EXPECT_FALSE(prefetch_pays(LinkModel{}, {1000, 0.6, 1000, 0.25}));
}

TEST(PrefetchGate, LearnsHitProbabilityPerRankAndVictimRegretPerLayer) {
  PrefetchGate gate(MoeShape::uniform(2, 4, 2, 1000), gigabyte_link(), 1'000'000);
  // Unscored: a coin toss; the victim prior is 1 in 4.
  EXPECT_DOUBLE_EQ(gate.hit_probability(MoeLayerId(1), 0), 0.5);
  EXPECT_DOUBLE_EQ(gate.victim_regret(MoeLayerId(1)), 0.25);
  for (bool routed : {true, true, true, false}) gate.score(MoeLayerId(1), 0, routed);
  gate.score(MoeLayerId(1), 1, false);
  EXPECT_DOUBLE_EQ(gate.hit_probability(MoeLayerId(1), 0), 4.0 / 6.0);  // (3 + 1) / (4 + 2)
  EXPECT_DOUBLE_EQ(gate.hit_probability(MoeLayerId(1), 1), 1.0 / 3.0);  // (0 + 1) / (1 + 2)
  EXPECT_DOUBLE_EQ(gate.hit_probability(MoeLayerId(0), 0), 0.5);        // other layer untouched
  EXPECT_DOUBLE_EQ(gate.hit_probability(MoeLayerId(1), 9), 0.0);        // no such rank
  // Expert 2 of layer 1 evicted at position 5: a step at 5 itself does not resolve it, the next
  // step of layer 1 does (it uses expert 2: regret), the one after has nothing left to resolve.
  gate.on_victim({MoeLayerId(1), ExpertId(2)}, 5);
  gate.on_victim({MoeLayerId(1), ExpertId(3)}, 5);
  const std::vector<ExpertKey> uses2{{MoeLayerId(1), ExpertId(2)}};
  gate.on_step(MoeLayerId(1), 5, uses2);
  EXPECT_DOUBLE_EQ(gate.victim_regret(MoeLayerId(1)), 0.25);
  gate.on_step(MoeLayerId(1), 7, uses2);
  EXPECT_DOUBLE_EQ(gate.victim_regret(MoeLayerId(1)), 2.0 / 6.0);  // (1 + 1) / (2 + 4)
  gate.on_step(MoeLayerId(1), 9, uses2);
  EXPECT_DOUBLE_EQ(gate.victim_regret(MoeLayerId(1)), 2.0 / 6.0);
  // Layer compute: a moving average over 8 steps from the prior.
  gate.on_decode_compute(9'000'000);
  EXPECT_EQ(gate.layer_ns(), 2'000'000);
}

// Two layers of 4 experts, top-1, token t routed to t % 4 at layer 0 and (t + 1) % 4 at layer 1;
// one slot per layer, so every prefetch evicts.
RoutingTrace rotating_trace(int tokens, uint64_t expert_bytes) {
  std::vector<std::vector<std::vector<int>>> r;
  for (int t = 0; t < tokens; ++t) r.push_back({{t % 4}, {(t + 1) % 4}});
  return testing::make_trace(r, 4, 0, expert_bytes);
}

// Replays `trace` with next-gate:1:1 (cost-gated or not), its probe naming the expert the target
// really routes to (right) or the one two ids further (wrong).
CacheReport replay_scripted(const RoutingTrace& trace, bool gated, bool right, TimingModel timing) {
  auto stream = std::make_shared<AccessStream>(AccessStream::build(trace, {}));
  auto prefetcher = make_prefetcher(gated ? "next-gate:1:1+cost" : "next-gate:1:1", {});
  prefetcher->set_probe_source(
      [&trace, right](PrefetchTarget at, int32_t, std::vector<ExpertId>& out) {
        out.clear();
        if (const int routed = routed_at(trace, at); routed >= 0)
          out.push_back(ExpertId(right ? routed : (routed + 2) % 4));
      });
  CacheSimulator sim(trace.shape, CacheCapacity::uniform(2, 1),
                     make_policy(parse_policy_spec("lru"), {stream, nullptr}),
                     std::move(prefetcher), timing, "lru");
  return replay(trace, *stream, sim);
}

TEST(PrefetchGate, IssuesRightPredictionsOnceLearntAndNeverWrongOnes) {
  // 100 000-byte experts over 1 GB/s: 100 us per load, well inside a 1 ms layer.
  const RoutingTrace trace = rotating_trace(20, 100'000);
  const TimingModel timing{gigabyte_link(), 1'000'000, 0};
  const CacheReport ungated_wrong = replay_scripted(trace, false, false, timing);
  const CacheReport gated_wrong = replay_scripted(trace, true, false, timing);
  const CacheReport gated_right = replay_scripted(trace, true, true, timing);
  // 40 steps, 39 predictions (the last step's target is past the trace).
  EXPECT_EQ(ungated_wrong.total().prefetch_issued, 39);
  EXPECT_EQ(gated_wrong.total().prefetch_issued, 0);      // p falls from 1/2: never pays
  EXPECT_EQ(gated_wrong.total().prefetch_predicted, 39);  // still scored
  EXPECT_EQ(gated_wrong.total().hits, 0);
  // Right ones: the first prediction of each layer is a coin toss (not issued); once one per
  // layer is scored p = 2/3 > (1 + 1/4) / 2, so every later one is issued and hits: the first
  // prediction for layer 1 is made at (0, 0) and for layer 0 at (0, 1), so the first hits are
  // (1, 1) and (2, 0).
  EXPECT_EQ(gated_right.total().prefetch_issued, 37);
  EXPECT_EQ(gated_right.total().prefetch_used, 37);
  EXPECT_EQ(gated_right.total().hits, 37);
  EXPECT_EQ(gated_right.token[1].hits, 1);
  EXPECT_EQ(gated_right.token[2].hits, 2);
}

TEST(PrefetchGate, LearnsOnlyFromPredictionsOfExpertsNotResident) {
  // Both layers always route expert 0, which stays in the layer's one slot. The probe names it
  // (resident, right) except at every 4th token of layer 1, where it names expert 3 (not
  // resident, wrong). Only the first prediction for layer 1, made before layer 1 ran, bets on a
  // non-resident expert and is right (p = 2/3), so the first bet on expert 3 (token 3) is issued;
  // after it p = 1/2 and none is. Scored over all predictions (right 3 times in 4) the gate would
  // issue at tokens 3, 7 and 11, each evicting the expert the next token needs.
  constexpr int kTokens = 20;
  std::vector<std::vector<std::vector<int>>> r(kTokens, {{0}, {0}});
  const RoutingTrace trace = testing::make_trace(r, 4, 0, 100'000);
  auto stream = std::make_shared<AccessStream>(AccessStream::build(trace, {}));
  auto prefetcher = make_prefetcher("next-gate:1:1+cost", {});
  prefetcher->set_probe_source([](PrefetchTarget at, int32_t, std::vector<ExpertId>& out) {
    const bool wrong = at.layer.value == 1 && at.token.value % 4 == 3;
    out.assign(1, ExpertId(wrong ? 3 : 0));
  });
  CacheSimulator sim(trace.shape, CacheCapacity::uniform(2, 1),
                     make_policy(parse_policy_spec("lru"), {stream, nullptr}),
                     std::move(prefetcher), TimingModel{gigabyte_link(), 1'000'000, 0}, "lru");
  const CacheReport report = replay(trace, *stream, sim);
  EXPECT_EQ(report.total().prefetch_issued, 1);
  // The first use of each layer misses, and layer 1 at token 3 (expert 3 took expert 0's slot).
  EXPECT_EQ(report.total().hits, 2 * kTokens - 3);
  EXPECT_GT(report.total().prefetch_correct, 0);  // the resident predictions still count
}

TEST(PrefetchGate, IssuesNothingTheLinkCannotLandBeforeTheTarget) {
  const TimingModel timing{gigabyte_link(), 1'000'000, 0};  // 1 ms per layer
  // 900 us per load fits before the next layer; 1.1 ms does not, right as the predictions are.
  const CacheReport fits = replay_scripted(rotating_trace(20, 900'000), true, true, timing);
  const CacheReport late = replay_scripted(rotating_trace(20, 1'100'000), true, true, timing);
  const CacheReport ungated = replay_scripted(rotating_trace(20, 1'100'000), false, true, timing);
  EXPECT_EQ(fits.total().prefetch_issued, 37);
  EXPECT_EQ(fits.total().prefetch_late, 0);
  EXPECT_EQ(late.total().prefetch_issued, 0);
  EXPECT_EQ(ungated.total().prefetch_issued, 39);
  EXPECT_GT(ungated.total().prefetch_late, 0);
}

TEST(PrefetchRule, NeverEvictsAnExpertAnEarlierPredictionNeedsSooner) {
  // One layer, a global pool of 2 slots, token t routed to expert t; next-gate:2:1 predicts the
  // token two ahead (right). At token 1 the LRU victim for the prefetch of token 3's expert would
  // be expert 2, prefetched at token 0 for token 2: it stays, and token 2 hits.
  const RoutingTrace trace = testing::make_trace({{{0}}, {{1}}, {{2}}, {{3}}}, 4);
  auto stream = std::make_shared<AccessStream>(AccessStream::build(trace, {}));
  auto prefetcher = make_prefetcher("next-gate:2:1", {});
  prefetcher->set_probe_source([&trace](PrefetchTarget at, int32_t, std::vector<ExpertId>& out) {
    out.clear();
    if (const int routed = routed_at(trace, at); routed >= 0) out.push_back(ExpertId(routed));
  });
  CacheSimulator sim(trace.shape, CacheCapacity::global_slots(2),
                     make_policy(parse_policy_spec("lru-global"), {stream, nullptr}),
                     std::move(prefetcher), {}, "lru-global");
  const CacheReport r = replay(trace, *stream, sim);
  EXPECT_EQ(r.token[2].hits, 1);
  EXPECT_EQ(r.total().prefetch_wasted, 0);
  // Token 0: prefetch of 2 (beside 0). Token 1: miss of 1 evicts 0; the prefetch of 3 finds only
  // experts needed sooner (1 running, 2 predicted for token 2) and is not issued.
  EXPECT_EQ(r.token[1].prefetch_issued, 0);
  EXPECT_EQ(r.total().prefetch_issued, 1);  // tokens 2 and 3 predict past the trace
}

TEST(PrefetchRule, ALowerRankedPredictionNeverDisplacesAHigherRankedOne) {
  // One layer, two slots; next-gate:1:2 names [routed, next id] for the next token. The first
  // takes the slot the running expert does not hold; the second could only evict the first (or
  // the running expert), and does not, so every token after the first hits.
  const RoutingTrace trace = testing::make_trace({{{0}}, {{1}}, {{2}}, {{3}}, {{0}}}, 4);
  auto stream = std::make_shared<AccessStream>(AccessStream::build(trace, {}));
  auto prefetcher = make_prefetcher("next-gate:1:2", {});
  prefetcher->set_probe_source([&trace](PrefetchTarget at, int32_t, std::vector<ExpertId>& out) {
    out.clear();
    if (const int routed = routed_at(trace, at); routed >= 0)
      out = {ExpertId(routed), ExpertId((routed + 1) % 4)};
  });
  CacheSimulator sim(trace.shape, CacheCapacity::uniform(1, 2),
                     make_policy(parse_policy_spec("lru"), {stream, nullptr}),
                     std::move(prefetcher), {}, "lru");
  const CacheReport r = replay(trace, *stream, sim);
  EXPECT_EQ(r.total().hits, 4);
  EXPECT_EQ(r.total().prefetch_issued, 4);
  EXPECT_EQ(r.total().prefetch_wasted, 0);
}

}  // namespace
}  // namespace moescope::policy
