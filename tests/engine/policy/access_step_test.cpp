// The one step builder (make_step) and the one replay with outcomes (replay_with_outcomes).
#include <gtest/gtest.h>

#include "engine/common/error.h"
#include "engine/policy/access_step.h"
#include "engine/policy/step_outcomes.h"
#include "engine/policy/synthetic_trace.h"
#include "policy_test_util.h"

namespace moescope::policy {
namespace {

using testing::make_trace;
using testing::reference_string;

std::vector<int> ids(std::span<const ExpertId> experts) {
  std::vector<int> out;
  for (ExpertId e : experts) out.push_back(e.value);
  return out;
}

TEST(MakeStep, DistinctExpertsInOrderOfFirstUse) {
  // Three prefill tokens at layer 1 of a 2-layer trace: {2,0}, {0,3}, {1,2}.
  const RoutingTrace t = make_trace({{{0}, {2, 0}}, {{0}, {0, 3}}, {{0}, {1, 2}}}, 4, 3);
  std::vector<TokenLayerRouting> routing;
  for (int u = 0; u < 3; ++u) routing.push_back(t.routing(TokenPos(u), MoeLayerId(1)));
  StepBuilder b;
  const StepInput& in = b.make_step(TokenPos(0), MoeLayerId(1), Phase::kPrefill, routing, 4, 7);
  EXPECT_EQ(ids(in.experts), (std::vector<int>{2, 0, 3, 1}));
  EXPECT_EQ(in.first_token, TokenPos(0));
  EXPECT_EQ(in.n_tokens, 3);
  EXPECT_EQ(in.layer, MoeLayerId(1));
  EXPECT_EQ(in.phase, Phase::kPrefill);
  EXPECT_EQ(in.routing.size(), 3u);
  EXPECT_EQ(in.compute_ns, 7);

  // One decode token keeps its top-k order, and nothing of the previous step lingers.
  const std::vector<TokenLayerRouting> one{t.routing(TokenPos(2), MoeLayerId(1))};
  const StepInput& d = b.make_step(TokenPos(2), MoeLayerId(1), Phase::kDecode, one, 4);
  EXPECT_EQ(ids(d.experts), (std::vector<int>{1, 2}));
  EXPECT_EQ(d.compute_ns, -1);
}

TEST(MakeStep, RefusesAnExpertTheLayerDoesNotHave) {
  const std::vector<ExpertId> experts{ExpertId(1), ExpertId(5)};
  const std::vector<float> weights{0.5f, 0.5f};
  const std::vector<TokenLayerRouting> routing{{experts, weights, {}}};
  StepBuilder b;
  EXPECT_THROW(b.make_step(TokenPos(0), MoeLayerId(0), Phase::kDecode, routing, 4), Error);
  // The builder is still usable after the refusal.
  const std::vector<ExpertId> ok{ExpertId(1), ExpertId(3)};
  const std::vector<TokenLayerRouting> good{{ok, weights, {}}};
  EXPECT_EQ(ids(b.make_step(TokenPos(0), MoeLayerId(0), Phase::kDecode, good, 4).experts),
            (std::vector<int>{1, 3}));
}

TEST(MakeStep, TheAccessStreamIsMadeOfIt) {
  const RoutingTrace t = synthetic_trace(
      {.n_layers = 3, .n_experts = 8, .top_k = 2, .n_tokens = 40, .n_prefill = 13, .seed = 5});
  const AccessStream s = AccessStream::build(t, {5});
  ASSERT_EQ(s.steps.size(), size_t(3 * (3 + 27)));  // chunks of 5, 5, 3; 27 decode tokens
  StepBuilder b;
  std::vector<TokenLayerRouting> routing;
  for (const AccessStep& st : s.steps) {
    routing.clear();
    for (int32_t u = 0; u < st.n_tokens; ++u)
      routing.push_back(t.routing(TokenPos(st.first_token.value + u), st.layer));
    const StepInput& in = b.make_step(st.first_token, st.layer, st.phase, routing, 8);
    std::vector<int> stream;
    for (int64_t i = st.begin; i < st.end; ++i)
      stream.push_back(s.accesses[size_t(i)].expert.value);
    EXPECT_EQ(ids(in.experts), stream);
  }
}

std::vector<Outcome> replay_outcomes(const RoutingTrace& t, CacheSimulator& sim,
                                     std::vector<StepOutcomes::Op>* ops = nullptr) {
  const AccessStream s = AccessStream::build(t);
  std::vector<Outcome> out;
  replay_with_outcomes(t, s, sim, [&](const StepInput&, const StepOutcomes& o) {
    for (const auto& a : o.accesses()) out.push_back(a.outcome);
    if (ops) ops->insert(ops->end(), o.ops().begin(), o.ops().end());
  });
  return out;
}

TEST(ReplayWithOutcomes, LruOnAReferenceString) {
  // LRU with 2 slots on 0 1 0 2 1: miss miss hit miss (evicts 1) miss (evicts 0).
  const RoutingTrace t = reference_string({0, 1, 0, 2, 1}, 4);
  auto stream = std::make_shared<AccessStream>(AccessStream::build(t));
  CacheSimulator sim(t.shape, CacheCapacity::uniform(1, 2),
                     make_policy(parse_policy_spec("lru"), {stream, nullptr}));
  std::vector<StepOutcomes::Op> ops;
  const std::vector<Outcome> o = replay_outcomes(t, sim, &ops);
  using O = Outcome;
  EXPECT_EQ(o, (std::vector<Outcome>{O::kMiss, O::kMiss, O::kHit, O::kMiss, O::kMiss}));
  std::vector<int> evicted;
  for (const auto& op : ops)
    if (op.kind == StepOutcomes::Op::kEvict) evicted.push_back(op.key.expert.value);
  EXPECT_EQ(evicted, (std::vector<int>{1, 0}));
  EXPECT_EQ(sim.report().total().misses, 4);
}

TEST(ReplayWithOutcomes, OutcomesCountWhatTheSimulatorCounts) {
  const RoutingTrace t = synthetic_trace({.kind = SyntheticSpec::Kind::kBursty,
                                          .n_layers = 4,
                                          .n_experts = 16,
                                          .top_k = 2,
                                          .n_tokens = 300,
                                          .n_prefill = 20,
                                          .seed = 11,
                                          .affinity = 0.7});
  for (const char* policy : {"lru", "lfu-global", "belady-bypass"}) {
    for (const char* prefetcher : {"none", "affinity", "same-prev"}) {
      SCOPED_TRACE(std::string(policy) + "@" + prefetcher);
      auto stream = std::make_shared<AccessStream>(AccessStream::build(t));
      const PolicySpec spec = parse_policy_spec(policy);
      auto make_sim = [&] {
        TimingModel timing;
        timing.link = LinkModel::preset("nvme");
        return CacheSimulator(
            t.shape, make_capacity(spec.pool, Budget::slots(20), t.shape, AllocatorKind::kUniform),
            make_policy(spec, {stream, nullptr}), make_prefetcher(prefetcher, {}), timing);
      };
      CacheSimulator sim = make_sim();
      std::vector<StepOutcomes::Op> ops;
      const std::vector<Outcome> o = replay_outcomes(t, sim, &ops);
      CacheCounters seen;
      for (Outcome x : o) {
        ++seen.accesses;
        seen.hits += !is_miss(x);
        seen.misses += is_miss(x);
        seen.bypasses += x == Outcome::kBypass;
        seen.prefetch_used += is_prefetch_hit(x);
        seen.prefetch_late += x == Outcome::kLateHit;
      }
      for (const auto& op : ops) {
        seen.evictions += op.kind == StepOutcomes::Op::kEvict;
        seen.prefetch_wasted += op.wasted;
        seen.prefetch_issued += op.kind == StepOutcomes::Op::kPrefetch;
      }
      const CacheCounters c = sim.report().total();
      EXPECT_EQ(seen.accesses, c.accesses);
      EXPECT_EQ(seen.hits, c.hits);
      EXPECT_EQ(seen.misses, c.misses);
      EXPECT_EQ(seen.bypasses, c.bypasses);
      EXPECT_EQ(seen.evictions, c.evictions);
      EXPECT_EQ(seen.prefetch_issued, c.prefetch_issued);
      EXPECT_EQ(seen.prefetch_used, c.prefetch_used);
      EXPECT_EQ(seen.prefetch_late, c.prefetch_late);
      EXPECT_EQ(seen.prefetch_wasted, c.prefetch_wasted);
      // Listening changes nothing: the plain replay gives the same report.
      CacheSimulator plain = make_sim();
      EXPECT_EQ(replay(t, *stream, plain).total(), c);
    }
  }
}

}  // namespace
}  // namespace moescope::policy
