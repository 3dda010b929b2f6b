// The prediction seam: a prefetcher declares the router probes it needs, the engine's probes
// reach every prefetcher that asks (live shadows at once, oracles in their second pass), and a
// replay through a probe source gives the same counters.
#include <gtest/gtest.h>

#include "engine/common/error.h"
#include "engine/policy/shadow_set.h"
#include "engine/policy/synthetic_trace.h"
#include "tests/engine/policy/policy_test_util.h"

namespace moescope::policy {
namespace {

TEST(PredictionSeam, SpecsDeclareTheirProbes) {
  EXPECT_EQ(prediction_inputs("next-gate").router_probe, (RouterProbeRequest{1, 0}));
  EXPECT_EQ(prediction_inputs("next-gate:2:3").router_probe, (RouterProbeRequest{2, 3}));
  for (const char* spec : {"none", "same-prev:2", "affinity:2", "freq:2:8", "path", "affinity-fit"})
    EXPECT_FALSE(prediction_inputs(spec).router_probe) << spec;
  EXPECT_THROW(prediction_inputs("next-gate:0"), Error);
  EXPECT_THROW(prediction_inputs("gate-next"), Error);
  // Asking costs no trace: a fitted prefetcher still needs one to be built for real.
  EXPECT_THROW(make_prefetcher("path", {}), Error);
}

// What an engine's probe (d, k') would say at a target: here the routed experts themselves,
// cut to k, for targets the engine can probe (a decode token, within the token).
void perfect_probe(const RoutingTrace& t, const RouterProbeRequest& probe, PrefetchTarget target,
                   std::vector<ExpertId>& out) {
  out.clear();
  if (target.layer.value < probe.distance || target.token.value >= t.n_tokens()) return;
  if (t.phase[size_t(target.token.value)] != Phase::kDecode) return;
  const int32_t k = probe.k_prime > 0 ? probe.k_prime : t.shape.top_k[size_t(target.layer.value)];
  for (ExpertId e : t.experts(target.token, target.layer))
    if (int32_t(out.size()) < k) out.push_back(e);
}

TEST(PredictionSeam, ProbesReachLiveShadowsAndOraclesAsAReplayWouldGiveThem) {
  const RoutingTrace t = synthetic_trace({.kind = SyntheticSpec::Kind::kZipf,
                                          .n_layers = 4,
                                          .n_experts = 12,
                                          .top_k = 2,
                                          .n_tokens = 60,
                                          .n_prefill = 6,
                                          .seed = 3});
  const auto stream = std::make_shared<AccessStream>(AccessStream::build(t));
  ShadowSetup setup;
  setup.shape = t.shape;
  setup.budget = Budget::slots(12);
  setup.timing.link = LinkModel::preset("nvme");
  const std::vector<ShadowSpec> specs = parse_shadow_specs(
      "lru@next-gate:1:0, lru@next-gate:2:1, belady@next-gate:1:0, lru@freq:2", "none");
  ShadowSet set(setup, specs);
  const std::vector<RouterProbeRequest> asked = set.router_probes();
  ASSERT_EQ(asked, (std::vector<RouterProbeRequest>{{1, 0}, {2, 1}}));

  // The engine's order: a decode token's routing at layer l (and so its probes) comes before
  // the step of layer l.
  std::vector<TokenLayerRouting> routing;
  std::vector<ExpertId> experts, probed;
  for (const AccessStep& st : stream->steps) {
    if (st.phase == Phase::kDecode) {
      for (const RouterProbeRequest& probe : asked) {
        const PrefetchTarget target{st.first_token, MoeLayerId(st.layer.value + probe.distance)};
        if (target.layer.value >= t.n_layers()) continue;
        perfect_probe(t, probe, target, probed);
        set.supply_probe(probe, target, probed);
      }
    }
    set.begin_step(testing::live_step(t, *stream, st, routing, experts));
    set.end_step(-1);
  }

  const std::vector<ShadowResult> results = set.results();
  ASSERT_EQ(results.size(), specs.size());
  for (size_t i = 0; i < specs.size(); ++i) {
    SCOPED_TRACE(specs[i].policy + "@" + specs[i].prefetcher);
    const PolicySpec spec = parse_policy_spec(specs[i].policy);
    auto prefetcher = make_prefetcher(specs[i].prefetcher, {});
    if (const auto probe = prefetcher->inputs().router_probe) {
      prefetcher->set_probe_source(
          [&t, probe = *probe](PrefetchTarget target, int32_t, std::vector<ExpertId>& out) {
            perfect_probe(t, probe, target, out);
          });
    }
    CacheSimulator sim(t.shape, make_capacity(spec.pool, setup.budget, t.shape),
                       make_policy(spec, {stream, nullptr}), std::move(prefetcher), setup.timing,
                       spec.text);
    EXPECT_TRUE(replay(t, *stream, sim) == results[i].report);
  }
  // The probes did reach the next-gate shadows: perfect predictions are all used.
  const CacheCounters gate = results[0].report.total();
  EXPECT_GT(gate.prefetch_issued, 0);
  EXPECT_DOUBLE_EQ(gate.precision(), 1.0);
  EXPECT_GT(results[2].report.total().prefetch_issued, 0);
  EXPECT_GT(results[3].report.total().prefetch_issued, 0);  // freq predicts on its own
}

}  // namespace
}  // namespace moescope::policy
