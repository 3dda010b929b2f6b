// Capacity-Aware Inference's rules on hand-built router probabilities (values worked out by hand
// in the comments).
#include <gtest/gtest.h>

#include <vector>

#include "engine/batching/capacity_aware.h"
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

TEST(CapacityAware, BadShapesThrow) {
  EXPECT_THROW(capacity_select(kProbs, 3, 4, 2, 2, 1), Error);
  EXPECT_THROW(capacity_select(kProbs, 4, 4, 5, 5, 1), Error);
  EXPECT_EQ(straggler_factor(std::vector<int64_t>{0, 0}), 0.0);
}

}  // namespace
}  // namespace moescope::batching
