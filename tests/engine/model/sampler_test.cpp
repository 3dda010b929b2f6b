// Sampler: each step against hand-computed distributions, the chain against sampling statistics,
// and the random sequence against the values the C++ standard fixes for mt19937_64.
#include "engine/model/sampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <vector>

#include "engine/common/error.h"

namespace moescope {
namespace {

std::vector<int32_t> ids(const Candidates& c) {
  std::vector<int32_t> out;
  for (const auto& t : c.items) out.push_back(t.id);
  return out;
}

// Logits whose softmax is exactly {0.1, 0.2, 0.3, 0.4} for ids 0..3.
const std::vector<float> kTenthLogits = {std::log(1.0f), std::log(2.0f), std::log(3.0f),
                                         std::log(4.0f)};

TEST(SamplerSteps, TopKKeepsTheKHighestInOrder) {
  auto c = Candidates::from_logits(std::vector<float>{1, 3, 2, 5, 4});
  sampling::top_k(c, 2);
  EXPECT_EQ(ids(c), (std::vector<int32_t>{3, 4}));
  auto all = Candidates::from_logits(std::vector<float>{1, 3, 2});
  sampling::top_k(all, 0);  // off
  EXPECT_EQ(all.items.size(), 3u);
  sampling::top_k(all, 10);  // more than there are
  EXPECT_EQ(ids(all), (std::vector<int32_t>{1, 2, 0}));
}

TEST(SamplerSteps, SoftmaxSortsAndNormalises) {
  auto c = Candidates::from_logits(kTenthLogits);
  sampling::softmax(c);
  ASSERT_EQ(ids(c), (std::vector<int32_t>{3, 2, 1, 0}));
  const float expected[] = {0.4f, 0.3f, 0.2f, 0.1f};
  for (size_t i = 0; i < 4; ++i) EXPECT_NEAR(c.items[i].p, expected[i], 1e-6);
}

TEST(SamplerSteps, TopPKeepsTheSmallestPrefixReachingP) {
  // Cumulative probabilities of the sorted tokens: 0.4, 0.7, 0.9, 1.0.
  const std::map<float, size_t> kept = {{0.35f, 1}, {0.65f, 2}, {0.75f, 3}, {0.95f, 4}};
  for (auto [p, n] : kept) {
    auto c = Candidates::from_logits(kTenthLogits);
    sampling::top_p(c, p);
    EXPECT_EQ(c.items.size(), n) << "top-p " << p;
  }
  auto c = Candidates::from_logits(kTenthLogits);
  sampling::top_p(c, 0.35f, 3);  // min_keep wins
  EXPECT_EQ(c.items.size(), 3u);
  auto off = Candidates::from_logits(kTenthLogits);
  sampling::top_p(off, 1.0f);
  EXPECT_EQ(off.items.size(), 4u);
}

TEST(SamplerSteps, MinPKeepsTokensAboveAFractionOfTheBest) {
  // Probabilities 0.4, 0.3, 0.2, 0.1: min-p 0.6 -> threshold 0.24 keeps two; 0.3 -> 0.12 keeps
  // three; 0.2 -> 0.08 keeps all four.
  const std::map<float, size_t> kept = {{0.6f, 2}, {0.3f, 3}, {0.2f, 4}, {1.0f, 1}};
  for (auto [p, n] : kept) {
    auto c = Candidates::from_logits(kTenthLogits);
    sampling::min_p(c, p);
    EXPECT_EQ(c.items.size(), n) << "min-p " << p;
    EXPECT_EQ(c.items.front().id, 3);
  }
}

TEST(SamplerSteps, RepetitionPenaltyDividesPositiveAndMultipliesNegativeLogitsOnce) {
  auto c = Candidates::from_logits(std::vector<float>{2.0f, -2.0f, 1.0f, 0.5f});
  const std::vector<int32_t> recent = {0, 1, 1, 1};  // token 1 three times: still one penalty
  sampling::apply_repetition_penalty(c, recent, 2.0f);
  EXPECT_FLOAT_EQ(c.items[0].logit, 1.0f);
  EXPECT_FLOAT_EQ(c.items[1].logit, -4.0f);
  EXPECT_FLOAT_EQ(c.items[2].logit, 1.0f);
  EXPECT_FLOAT_EQ(c.items[3].logit, 0.5f);
}

TEST(SamplerSteps, TemperatureScalesLogitsAndZeroKeepsTheMaximum) {
  auto c = Candidates::from_logits(std::vector<float>{1.0f, 2.0f, -1.0f});
  sampling::apply_temperature(c, 0.5f);
  EXPECT_FLOAT_EQ(c.items[0].logit, 2.0f);
  EXPECT_FLOAT_EQ(c.items[1].logit, 4.0f);
  EXPECT_FLOAT_EQ(c.items[2].logit, -2.0f);
  auto g = Candidates::from_logits(std::vector<float>{1.0f, 2.0f, -1.0f});
  sampling::apply_temperature(g, 0.0f);
  EXPECT_EQ(ids(g), (std::vector<int32_t>{1}));
}

TEST(SamplerSteps, DrawWalksTheCumulativeDistribution) {
  // Sorted: id 3 (0.4), id 2 (0.3), id 1 (0.2), id 0 (0.1).
  const std::map<double, int32_t> expected = {{0.0, 3},  {0.39, 3}, {0.41, 2}, {0.69, 2},
                                              {0.71, 1}, {0.89, 1}, {0.91, 0}, {0.999, 0}};
  for (auto [u, id] : expected) {
    auto c = Candidates::from_logits(kTenthLogits);
    EXPECT_EQ(sampling::draw(c, u), id) << "u = " << u;
  }
}

TEST(Sampler, RandomSequenceIsTheStandardMt19937_64) {
  // [rand.predef]: the 10000th output of a default-constructed mt19937_64 (seed 5489) is
  // 9981545732273789042. uniform_unit() keeps its 53 high bits.
  SamplingParams params;
  params.seed = 5489;
  Sampler sampler(params);
  double u = 0.0;
  for (int i = 0; i < 10000; ++i) u = sampler.uniform_unit();
  EXPECT_EQ(u, static_cast<double>(9981545732273789042ULL >> 11) * 0x1.0p-53);
}

std::vector<float> pseudo_random_logits(int n, uint32_t state) {
  std::vector<float> logits(n);
  for (auto& l : logits) {
    state = state * 1664525u + 1013904223u;  // LCG: a fixed, portable spread of values
    l = static_cast<float>(state >> 8) / static_cast<float>(1 << 24) * 8.0f - 4.0f;
  }
  return logits;
}

TEST(Sampler, SameSeedSameTokensDifferentSeedDifferentTokens) {
  const auto logits = pseudo_random_logits(500, 7);
  SamplingParams params;
  params.temperature = 1.5f;
  params.top_k = 0;
  params.top_p = 1.0f;
  params.min_p = 0.0f;
  auto run = [&](uint64_t seed) {
    params.seed = seed;
    Sampler s(params);
    std::vector<int32_t> out;
    for (int i = 0; i < 50; ++i) out.push_back(s.sample(logits));
    return out;
  };
  EXPECT_EQ(run(1), run(1));
  EXPECT_NE(run(1), run(2));

  params.seed = 3;
  Sampler s(params);
  const int32_t first = s.sample(logits);
  s.reset();
  EXPECT_EQ(s.sample(logits), first);
}

TEST(Sampler, FrequenciesFollowTheTemperedDistribution) {
  // Two tokens with logits 0 and ln 3 at temperature 0.5: p = 1:9.
  SamplingParams params;
  params.temperature = 0.5f;
  params.top_k = 0;
  params.top_p = 1.0f;
  params.min_p = 0.0f;
  params.seed = 11;
  Sampler s(params);
  const std::vector<float> logits = {0.0f, std::log(3.0f)};
  const int n = 20000;
  int ones = 0;
  for (int i = 0; i < n; ++i) ones += s.sample(logits) == 1;
  const double p = 0.9;
  EXPECT_NEAR(ones / static_cast<double>(n), p, 4.0 * std::sqrt(p * (1 - p) / n));
}

TEST(Sampler, FiltersApplyBeforeTheTemperature) {
  // Probabilities at temperature 1: 0.4, 0.3, 0.2, 0.1. top-p 0.65 keeps ids 3 and 2 whatever the
  // temperature; a high temperature then makes them nearly even (4:3 ** (1/4)).
  SamplingParams params;
  params.temperature = 4.0f;
  params.top_k = 0;
  params.top_p = 0.65f;
  params.min_p = 0.0f;
  params.seed = 5;
  Sampler s(params);
  const int n = 20000;
  std::map<int32_t, int> counts;
  for (int i = 0; i < n; ++i) ++counts[s.sample(kTenthLogits)];
  EXPECT_EQ(counts.size(), 2u);
  const double w3 = std::pow(0.4, 0.25);
  const double w2 = std::pow(0.3, 0.25);
  const double p3 = w3 / (w3 + w2);
  EXPECT_NEAR(counts[3] / static_cast<double>(n), p3, 4.0 * std::sqrt(p3 * (1 - p3) / n));
}

TEST(Sampler, GreedyIsTheArgmaxOfThePenalisedLogits) {
  const auto logits = pseudo_random_logits(1000, 3);
  SamplingParams params;
  params.temperature = 0.0f;
  Sampler greedy(params);
  const auto best = std::max_element(logits.begin(), logits.end()) - logits.begin();
  EXPECT_EQ(greedy.sample(logits), best);
  EXPECT_EQ(greedy.sample(logits), best);  // no randomness

  // A repeated token loses to the runner-up once penalised: 3.0 / 2 < 2.0.
  params.repeat_penalty = 2.0f;
  Sampler penalised(params);
  const std::vector<float> small = {1.0f, 3.0f, 2.0f};
  EXPECT_EQ(penalised.sample(small), 1);
  penalised.accept(1);
  EXPECT_EQ(penalised.sample(small), 2);
}

TEST(Sampler, PenaltyWindowForgetsOldTokens) {
  SamplingParams params;
  params.temperature = 0.0f;
  params.repeat_penalty = 10.0f;
  params.repeat_last_n = 2;
  Sampler s(params);
  const std::vector<float> logits = {5.0f, 1.0f, 1.0f, 1.0f};
  s.accept(0);
  EXPECT_NE(s.sample(logits), 0);        // 5 / 10 < 1
  s.accept(std::vector<int32_t>{2, 3});  // token 0 falls out of the two-token window
  EXPECT_EQ(s.sample(logits), 0);
}

TEST(SamplingParams, RejectsOutOfRangeValues) {
  auto bad = [](auto mutate) {
    SamplingParams p;
    mutate(p);
    return p;
  };
  EXPECT_THROW(bad([](SamplingParams& p) { p.top_p = 1.5f; }).validate(), Error);
  EXPECT_THROW(bad([](SamplingParams& p) { p.min_p = -0.1f; }).validate(), Error);
  EXPECT_THROW(bad([](SamplingParams& p) { p.repeat_penalty = 0.0f; }).validate(), Error);
  EXPECT_THROW(bad([](SamplingParams& p) { p.repeat_last_n = -2; }).validate(), Error);
  EXPECT_THROW(bad([](SamplingParams& p) { p.temperature = NAN; }).validate(), Error);
  EXPECT_NO_THROW(SamplingParams{}.validate());
}

}  // namespace
}  // namespace moescope
