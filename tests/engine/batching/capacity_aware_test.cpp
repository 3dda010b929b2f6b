// Capacity-Aware Inference's rules on hand-built router probabilities (values worked out by hand
// in the comments).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "engine/batching/capacity_aware.h"
#include "engine/batching/capacity_gating.h"
#include "engine/common/error.h"

namespace moescope::batching {
namespace {

TEST(CapacityAware, CapacityIsCeilGammaKTOverE) {
  EXPECT_EQ(expert_capacity(1.0, 2, 4, 4), 2);    // 2·4/4
  EXPECT_EQ(expert_capacity(1.5, 2, 16, 16), 3);  // 1.5·2·16/16
  EXPECT_EQ(expert_capacity(1.25, 2, 10, 8), 4);  // ceil(3.125)
  EXPECT_EQ(expert_capacity(1.0, 1, 3, 64), 1);   // ceil(0.047), at least 1
  EXPECT_EQ(expert_capacity(1.0, 2, 1, 16), 0);   // one token: no limit
  EXPECT_THROW(expert_capacity(0.0, 2, 4, 4), Error);
}

// Four tokens, four experts, top-2. Top-2 sets: t0 {0,1}, t1 {0,1}, t2 {0,2}, t3 {0,3}; expert 0
// has all four tokens, the others 2, 1, 1: straggler 4 / (8 / 4) = 2.
const std::vector<float> kProbs = {
    0.50f, 0.30f, 0.15f, 0.05f,  // t0
    0.45f, 0.35f, 0.10f, 0.10f,  // t1
    0.60f, 0.05f, 0.30f, 0.05f,  // t2
    0.40f, 0.10f, 0.20f, 0.30f,  // t3
};

std::vector<int32_t> kept(const CapacitySelection& s, int t) {
  return {s.experts.begin() + t * s.k, s.experts.begin() + t * s.k + s.n_kept[t]};
}

TEST(CapacityAware, TokenDropKeepsTheHighestScoringTokensOfAnOverloadedExpert) {
  const CapacitySelection none = capacity_select(kProbs, 4, 4, 2, 2, 0);
  EXPECT_EQ(straggler_factor(expert_loads(none, 4)), 2.0);
  EXPECT_EQ(none.dropped, 0);

  // C = 2: expert 0 keeps t2 (0.60) and t0 (0.50); t1 (0.45) and t3 (0.40) lose it.
  const CapacitySelection s = capacity_select(kProbs, 4, 4, 2, 2, expert_capacity(1.0, 2, 4, 4));
  EXPECT_EQ(kept(s, 0), (std::vector<int32_t>{0, 1}));
  EXPECT_EQ(kept(s, 1), (std::vector<int32_t>{1}));
  EXPECT_EQ(kept(s, 2), (std::vector<int32_t>{0, 2}));
  EXPECT_EQ(kept(s, 3), (std::vector<int32_t>{3}));
  EXPECT_EQ(s.experts[1 * 2 + 1], -1);  // padding
  EXPECT_EQ(s.dropped, 2);
  EXPECT_EQ(s.rerouted, 0);
  EXPECT_EQ(s.fallbacks, 0);
  // Loads 2, 2, 1, 1: max 2 over mean 6 / 4.
  EXPECT_EQ(expert_loads(s, 4), (std::vector<int64_t>{2, 2, 1, 1}));
  EXPECT_DOUBLE_EQ(straggler_factor(expert_loads(s, 4)), 2.0 / 1.5);
}

TEST(CapacityAware, ExpandedDropPicksTopKAmongSurvivingCandidates) {
  // m = 2: every token's candidates are all four experts; each expert keeps its two best tokens:
  // e0 {t2 .60, t0 .50}, e1 {t1 .35, t0 .30}, e2 {t2 .30, t3 .20}, e3 {t3 .30, t1 .10}. Each
  // token then takes its best two survivors:
  // t0 {0, 1}; t1 {1, 3} (loses 0, gains 3); t2 {0, 2}; t3 {3, 2} (loses 0, gains 2).
  const CapacitySelection s = capacity_select(kProbs, 4, 4, 2, 4, 2);
  EXPECT_EQ(kept(s, 0), (std::vector<int32_t>{0, 1}));
  EXPECT_EQ(kept(s, 1), (std::vector<int32_t>{1, 3}));
  EXPECT_EQ(kept(s, 2), (std::vector<int32_t>{0, 2}));
  EXPECT_EQ(kept(s, 3), (std::vector<int32_t>{3, 2}));
  EXPECT_EQ(s.dropped, 2);
  EXPECT_EQ(s.rerouted, 2);
  EXPECT_EQ(expert_loads(s, 4), (std::vector<int64_t>{2, 2, 2, 2}));
  EXPECT_DOUBLE_EQ(straggler_factor(expert_loads(s, 4)), 1.0);
}

TEST(CapacityAware, ExpandedDropWithThreeCandidates) {
  // Candidates top-3: t0 {0,1,2}, t1 {0,1,2} (tie .10 .10: the lower index, 2), t2 {0,2,1}
  // (tie .05: 1), t3 {0,3,2}. C = 2: e0 {t2, t0}; e1 {t1, t0} (t2's .05 loses); e2 {t2 .30,
  // t3 .20}; e3 {t3}. Then: t0 {0,1}; t1 {1} (0 and 2 lost); t2 {0,2}; t3 {3,2}.
  const CapacitySelection s = capacity_select(kProbs, 4, 4, 2, 3, 2);
  EXPECT_EQ(kept(s, 1), (std::vector<int32_t>{1}));
  EXPECT_EQ(kept(s, 3), (std::vector<int32_t>{3, 2}));
  EXPECT_EQ(s.dropped, 2);
  EXPECT_EQ(s.rerouted, 1);
}

TEST(CapacityAware, ATokenLeftWithNothingFallsBackToItsArgmax) {
  // Top-1, C = ceil(0.5 · 1 · 2 / 2) = 1: expert 0 keeps t0 (0.9); t1 (0.8) keeps nothing and
  // falls back to its argmax, expert 0, beyond the capacity.
  const std::vector<float> probs = {0.9f, 0.1f, 0.8f, 0.2f};
  const CapacitySelection s = capacity_select(probs, 2, 2, 1, 1, expert_capacity(0.5, 1, 2, 2));
  EXPECT_EQ(kept(s, 1), (std::vector<int32_t>{0}));
  EXPECT_EQ(s.fallbacks, 1);
  EXPECT_EQ(s.dropped, 0);
}

TEST(CapacityAware, TiesKeepTheEarlierToken) {
  // Expanded (two candidates), C = 2. Expert 0: three tokens tie at 0.7, t0 and t1 keep it.
  // Expert 1: t0 .30, t2 .25 stay, t1 .20 goes. So t2 moves to expert 1.
  const std::vector<float> probs = {0.7f, 0.30f, 0.7f, 0.20f, 0.7f, 0.25f};
  const CapacitySelection s = capacity_select(probs, 3, 2, 1, 2, 2);
  EXPECT_EQ(kept(s, 0), (std::vector<int32_t>{0}));
  EXPECT_EQ(kept(s, 1), (std::vector<int32_t>{0}));
  EXPECT_EQ(kept(s, 2), (std::vector<int32_t>{1}));
  EXPECT_EQ(s.dropped, 1);
  EXPECT_EQ(s.rerouted, 1);
  EXPECT_EQ(s.fallbacks, 0);
}

// Capacity per device (expert parallelism over D devices): C = ceil(γ·k·T/D) routings per device,
// expert e on device floor(e·D/E).
TEST(CapacityAware, DeviceCapacityIsCeilGammaKTOverD) {
  EXPECT_EQ(device_capacity(1.0, 2, 4, 2), 4);    // 2·4/2
  EXPECT_EQ(device_capacity(1.5, 4, 10, 4), 15);  // 1.5·4·10/4
  EXPECT_EQ(device_capacity(1.25, 2, 3, 4), 2);   // ceil(1.875)
  EXPECT_EQ(device_capacity(1.0, 2, 1, 2), 0);    // one token: no limit
  EXPECT_THROW(device_capacity(1.0, 2, 4, 0), Error);
  EXPECT_EQ(contiguous_devices(6, 4), (std::vector<int32_t>{0, 0, 1, 2, 2, 3}));  // floor(e·4/6)
  EXPECT_EQ(contiguous_devices(4, 2), (std::vector<int32_t>{0, 0, 1, 1}));
  EXPECT_THROW(contiguous_devices(4, 5), Error);
}

TEST(CapacityAware, TokenDropPerDeviceKeepsTheDevicesHighestScoringRoutings) {
  // D = 2: experts 0, 1 on device 0; 2, 3 on device 1. C = ceil(1·2·4/2) = 4. Device 0 gets six
  // top-2 routings: t2e0 .60, t0e0 .50, t1e0 .45, t3e0 .40, t1e1 .35, t0e1 .30; it keeps the
  // first four (t1e1 and t0e1 go). Device 1 gets t2e2 .30 and t3e3 .30: within capacity.
  const std::vector<int32_t> device_of = contiguous_devices(4, 2);
  const int64_t c = device_capacity(1.0, 2, 4, 2);
  const CapacitySelection s = capacity_select_per_device(kProbs, 4, 4, 2, 2, c, device_of, 2);
  EXPECT_EQ(kept(s, 0), (std::vector<int32_t>{0}));
  EXPECT_EQ(kept(s, 1), (std::vector<int32_t>{0}));
  EXPECT_EQ(kept(s, 2), (std::vector<int32_t>{0, 2}));
  EXPECT_EQ(kept(s, 3), (std::vector<int32_t>{0, 3}));
  EXPECT_EQ(s.dropped, 2);
  EXPECT_EQ(s.rerouted, 0);
  EXPECT_EQ(s.fallbacks, 0);
  // Device loads 6, 2 before (straggler 6 / 4 = 1.5); 4, 2 after (4 / 3). Expert 0 keeps all
  // four of its tokens: a device's capacity does not bound an expert's share of it.
  EXPECT_EQ(device_loads(s, device_of, 2), (std::vector<int64_t>{4, 2}));
  EXPECT_EQ(expert_loads(s, 4), (std::vector<int64_t>{4, 0, 1, 1}));
  const CapacitySelection none = capacity_select_per_device(kProbs, 4, 4, 2, 2, 0, device_of, 2);
  EXPECT_EQ(device_loads(none, device_of, 2), (std::vector<int64_t>{6, 2}));

  // γ = 0.75: C = 3, so device 0 also drops t3e0 (.40), and t3 keeps only expert 3.
  const CapacitySelection tight =
      capacity_select_per_device(kProbs, 4, 4, 2, 2, device_capacity(0.75, 2, 4, 2), device_of, 2);
  EXPECT_EQ(kept(tight, 3), (std::vector<int32_t>{3}));
  EXPECT_EQ(tight.dropped, 3);
}

TEST(CapacityAware, ExpandedDropPerDevice) {
  // m = 2: every token's candidates are all four experts, so each device sees eight candidate
  // routings and keeps four. Device 0: t2e0 .60, t0e0 .50, t1e0 .45, t3e0 .40 (all e1 routings,
  // .35 and below, go). Device 1: t2e2 .30, t3e3 .30 (tie: the earlier token first), t3e2 .20,
  // t0e2 .15 (t1e2, t1e3 at .10 and t0e3, t2e3 at .05 go). Each token takes its best two
  // survivors: t0 {0, 2} (loses 1, gains 2: rerouted), t1 {0} (loses 1), t2 {0, 2}, t3 {0, 3}.
  const std::vector<int32_t> device_of = contiguous_devices(4, 2);
  const CapacitySelection s = capacity_select_per_device(kProbs, 4, 4, 2, 4, 4, device_of, 2);
  EXPECT_EQ(kept(s, 0), (std::vector<int32_t>{0, 2}));
  EXPECT_EQ(kept(s, 1), (std::vector<int32_t>{0}));
  EXPECT_EQ(kept(s, 2), (std::vector<int32_t>{0, 2}));
  EXPECT_EQ(kept(s, 3), (std::vector<int32_t>{0, 3}));
  EXPECT_EQ(s.dropped, 2);
  EXPECT_EQ(s.rerouted, 1);
  EXPECT_EQ(device_loads(s, device_of, 2), (std::vector<int64_t>{4, 3}));
  EXPECT_THROW(capacity_select_per_device(kProbs, 4, 4, 2, 2, 4, std::vector<int32_t>{0, 0, 1}, 2),
               Error);
  EXPECT_THROW(
      capacity_select_per_device(kProbs, 4, 4, 2, 2, 4, std::vector<int32_t>{0, 0, 1, 2}, 2),
      Error);
}

// The gating override applies the per-device rule to a forward call's routing and rewrites the
// kept experts' weights (renormalised over the kept ones, as the model's router does).
TEST(CapacityAware, GatingPerDeviceRewritesTheCallsRouting) {
  RoutingParams routing;
  routing.n_expert = 4;
  routing.n_used = 2;
  routing.gating = GatingFunc::Softmax;
  routing.norm_weights = true;
  // Logits ln p: the softmax gives back kProbs (each row sums to 1).
  std::vector<float> logits(kProbs.size());
  for (size_t i = 0; i < kProbs.size(); ++i) logits[i] = std::log(kProbs[i]);
  // The model's exact top-2 (t0 {0,1}, t1 {0,1}, t2 {0,2}, t3 {0,3}) and renormalised weights.
  std::vector<ExpertId> experts = {ExpertId(0), ExpertId(1), ExpertId(0), ExpertId(1),
                                   ExpertId(0), ExpertId(2), ExpertId(0), ExpertId(3)};
  std::vector<float> weights(8, 0.5f), scores(8, 0.0f);
  std::vector<int64_t> n_kept(4, 2);
  CapacityGating gating({1.0, 1, /*devices=*/2}, routing);
  EXPECT_EQ(gating.options().describe(), "capacity token-drop γ=1 per device D=2");
  gating.adjust_batch({LayerId(3), 4, 2, 4, logits, experts, weights, scores, n_kept});
  EXPECT_EQ(n_kept, (std::vector<int64_t>{1, 1, 2, 2}));
  EXPECT_EQ(experts[0], ExpertId(0));
  EXPECT_FLOAT_EQ(weights[0], 1.0f);  // t0 keeps expert 0 alone: weight .50 / .50
  EXPECT_EQ(experts[2], ExpertId(0));
  EXPECT_FLOAT_EQ(weights[2], 1.0f);
  EXPECT_FLOAT_EQ(weights[4], 0.5f);  // t2 unchanged: the model's own weights
  ASSERT_EQ(gating.records().size(), 1u);
  const CapacityRecord& r = gating.records()[0];
  EXPECT_EQ(r.layer, LayerId(3));
  EXPECT_EQ(r.capacity, 4);
  EXPECT_EQ(r.routings, 8);
  EXPECT_EQ(r.dropped, 2);
  EXPECT_DOUBLE_EQ(r.straggler_before, 1.5);       // devices 6, 2
  EXPECT_DOUBLE_EQ(r.straggler_after, 4.0 / 3.0);  // devices 4, 2
  EXPECT_THROW(CapacityGating({1.0, 1, -1}, routing), Error);
}

TEST(CapacityAware, BadShapesThrow) {
  EXPECT_THROW(capacity_select(kProbs, 3, 4, 2, 2, 1), Error);
  EXPECT_THROW(capacity_select(kProbs, 4, 4, 5, 5, 1), Error);
  EXPECT_EQ(straggler_factor(std::vector<int64_t>{0, 0}), 0.0);
}

}  // namespace
}  // namespace moescope::batching
