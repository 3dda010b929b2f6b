// Expert selection rules of llama.cpp's build_moe_ffn on hand-made router logits.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "engine/model/routing.h"

namespace moescope {
namespace {

struct Routed {
  std::vector<int> experts;
  std::vector<float> weights;
  std::vector<float> scores;
};

Routed route(const RoutingParams& p, const std::vector<float>& logits) {
  Routed r;
  std::vector<ExpertId> selected(p.n_used);
  r.weights.resize(p.n_used);
  r.scores.resize(p.n_used);
  RoutingScratch scratch;
  route_token(p, logits.data(), selected.data(), r.weights.data(), r.scores.data(), scratch);
  for (ExpertId e : selected) r.experts.push_back(e.value);
  return r;
}

RoutingParams softmax_params(int n_expert, int n_used) {
  RoutingParams p;
  p.n_expert = n_expert;
  p.n_used = n_used;
  return p;
}

TEST(Routing, TopKIsBestFirstWithSoftmaxWeights) {
  const Routed r = route(softmax_params(4, 2), {0.0f, 2.0f, 1.0f, -1.0f});
  EXPECT_EQ(r.experts, (std::vector<int>{1, 2}));
  const double z = std::exp(0.0) + std::exp(2.0) + std::exp(1.0) + std::exp(-1.0);
  EXPECT_NEAR(r.weights[0], std::exp(2.0) / z, 1e-6);  // not renormalised
  EXPECT_NEAR(r.weights[1], std::exp(1.0) / z, 1e-6);
  EXPECT_EQ(r.scores, r.weights);  // no selection bias: scores are the probabilities
}

TEST(Routing, ExactTiesKeepTheLowerIndexFirst) {
  const Routed r = route(softmax_params(6, 3), {0.5f, 1.0f, 0.5f, 1.0f, 1.0f, 0.5f});
  EXPECT_EQ(r.experts, (std::vector<int>{1, 3, 4}));
  const Routed all_equal = route(softmax_params(8, 4), std::vector<float>(8, 0.25f));
  EXPECT_EQ(all_equal.experts, (std::vector<int>{0, 1, 2, 3}));
}

TEST(Routing, RenormalisedWeightsSumToOne) {
  RoutingParams p = softmax_params(4, 2);
  p.norm_weights = true;
  const Routed r = route(p, {0.0f, 2.0f, 1.0f, -1.0f});
  EXPECT_NEAR(r.weights[0], std::exp(2.0) / (std::exp(2.0) + std::exp(1.0)), 1e-6);
  EXPECT_NEAR(r.weights[0] + r.weights[1], 1.0, 1e-6);
}

TEST(Routing, RenormalisationSumIsClampedToTheSmallestNormalHalf) {
  RoutingParams p = softmax_params(3, 2);
  p.gating = GatingFunc::Sigmoid;
  p.norm_weights = true;
  // sigmoid(-20) = 2.06e-9: the sum of two is far below 6.1e-5, so it is clamped, not used.
  const Routed r = route(p, {-20.0f, -20.0f, -30.0f});
  const double s = 1.0 / (1.0 + std::exp(20.0));
  EXPECT_NEAR(r.weights[0], s / 6.103515625e-5, 1e-9);
  EXPECT_LT(r.weights[0] + r.weights[1], 1e-3);
}

TEST(Routing, ScaleIsAppliedOnlyWhenNotZeroOrOne) {
  RoutingParams p = softmax_params(4, 2);
  p.norm_weights = true;
  const Routed plain = route(p, {0.0f, 2.0f, 1.0f, -1.0f});
  for (float s : {0.0f, 1.0f}) {
    p.weights_scale = s;
    EXPECT_EQ(route(p, {0.0f, 2.0f, 1.0f, -1.0f}).weights, plain.weights);
  }
  p.weights_scale = 2.5f;
  const Routed scaled = route(p, {0.0f, 2.0f, 1.0f, -1.0f});
  EXPECT_FLOAT_EQ(scaled.weights[0], plain.weights[0] * 2.5f);
  EXPECT_FLOAT_EQ(scaled.weights[1], plain.weights[1] * 2.5f);
}

TEST(Routing, SelectionBiasChoosesButDoesNotWeigh) {
  RoutingParams p = softmax_params(4, 1);
  p.gating = GatingFunc::Sigmoid;
  const std::vector<float> bias = {0.0f, 0.0f, 0.0f, 1.0f};
  p.selection_bias = bias.data();
  const Routed r = route(p, {1.0f, 0.0f, 0.0f, 0.0f});
  EXPECT_EQ(r.experts, std::vector<int>{3});  // 0.5 + 1 beats sigmoid(1) = 0.73
  EXPECT_FLOAT_EQ(r.weights[0], 0.5f);        // the unbiased probability
  EXPECT_FLOAT_EQ(r.scores[0], 1.5f);
}

TEST(Routing, ExpertGroupsMaskTheWeakerGroups) {
  // 4 groups of 2; a group's score is the sum of its two best: {0,1} 0.91, {2,3} 1.0,
  // {4,5} 0.9, {6,7} 0.2. Keeping 2 groups masks experts 4..7.
  RoutingParams p = softmax_params(8, 3);
  p.gating = GatingFunc::Sigmoid;  // logits chosen so that sigmoid keeps the order
  p.n_groups = 4;
  p.n_group_used = 2;
  auto logit = [](float prob) { return std::log(prob / (1 - prob)); };
  std::vector<float> logits = {logit(0.9f),  logit(0.01f), logit(0.5f), logit(0.5f),
                               logit(0.45f), logit(0.45f), logit(0.1f), logit(0.1f)};
  const Routed r = route(p, logits);
  EXPECT_EQ(r.experts, (std::vector<int>{0, 2, 3}));
  // The 4th pick is expert 1 (0.01) from a kept group, not expert 4 (0.45) from a masked one.
  p.n_used = 4;
  EXPECT_EQ(route(p, logits).experts, (std::vector<int>{0, 2, 3, 1}));
  p.n_groups = 0;
  EXPECT_EQ(route(p, logits).experts, (std::vector<int>{0, 2, 3, 4}));
}

TEST(Routing, SoftmaxWeightGatingSoftmaxesTheSelectedLogits) {
  RoutingParams p = softmax_params(5, 2);
  p.gating = GatingFunc::SoftmaxWeight;
  const Routed r = route(p, {0.5f, 3.0f, -2.0f, 2.0f, 1.0f});
  EXPECT_EQ(r.experts, (std::vector<int>{1, 3}));
  EXPECT_NEAR(r.weights[0], 1.0 / (1.0 + std::exp(-1.0)), 1e-6);
  EXPECT_NEAR(r.weights[1], 1.0 / (1.0 + std::exp(1.0)), 1e-6);
  EXPECT_FLOAT_EQ(r.scores[0], 3.0f);  // selection on the raw logits
}

TEST(Routing, NonFiniteLogitsDoNotCrash) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  const Routed r = route(softmax_params(4, 2), {nan, -inf, nan, 1.0f});
  ASSERT_EQ(r.experts.size(), 2u);
  for (int e : r.experts) EXPECT_TRUE(e >= 0 && e < 4);
  EXPECT_NE(r.experts[0], r.experts[1]);
}

}  // namespace
}  // namespace moescope
