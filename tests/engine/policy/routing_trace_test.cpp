#include <gtest/gtest.h>

#include "engine/common/error.h"
#include "engine/policy/access_stream.h"
#include "engine/policy/routing_trace.h"
#include "tests/engine/policy/policy_test_util.h"

namespace moescope::policy {
namespace {

using testing::make_trace;

TEST(RoutingTrace, BuilderRecordsRoutingAndProbabilities) {
  RoutingTraceBuilder b(MoeShape::uniform(2, 4, 2, 100), true);
  b.begin_token(Phase::kPrefill, 7);
  const std::vector<ExpertId> e0{ExpertId(3), ExpertId(1)}, e1{ExpertId(0), ExpertId(2)};
  const std::vector<float> w{0.6f, 0.4f}, p0{0.1f, 0.3f, 0.0f, 0.6f}, p1{0.5f, 0.1f, 0.4f, 0.0f};
  b.add_layer(e0, w, p0);
  b.add_layer(e1, w, p1);
  RoutingTrace t = b.finish();
  t.validate();
  ASSERT_EQ(t.n_tokens(), 1);
  const TokenLayerRouting r = t.routing(TokenPos(0), MoeLayerId(1));
  EXPECT_EQ(std::vector<ExpertId>(r.experts.begin(), r.experts.end()), e1);
  EXPECT_EQ(std::vector<float>(r.probs.begin(), r.probs.end()), p1);
  EXPECT_EQ(t.token_id, std::vector<int32_t>{7});
}

TEST(RoutingTrace, RejectsBadRoutingWithOneLineErrors) {
  RoutingTraceBuilder b(MoeShape::uniform(1, 4, 2, 100), false);
  b.begin_token(Phase::kDecode);
  const std::vector<float> w{0.5f, 0.5f};
  EXPECT_THROW(b.add_layer(std::vector<ExpertId>{ExpertId(1), ExpertId(1)}, w), Error);
  EXPECT_THROW(b.add_layer(std::vector<ExpertId>{ExpertId(1), ExpertId(4)}, w), Error);
  EXPECT_THROW(b.add_layer(std::vector<ExpertId>{ExpertId(1)}, w), Error);
  const std::vector<float> probs{1, 0, 0, 0};
  EXPECT_THROW(b.add_layer(std::vector<ExpertId>{ExpertId(0), ExpertId(1)}, w, probs), Error);
}

TEST(RoutingTrace, ValidateCatchesInconsistentFields) {
  RoutingTrace t = make_trace({{{0, 1}}, {{2, 3}}}, 4);
  t.validate();
  RoutingTrace bad = t;
  bad.offsets[1] = 5;  // past the end
  EXPECT_THROW(bad.validate(), Error);
  bad = t;
  bad.selected[3] = ExpertId(9);
  EXPECT_THROW(bad.validate(), Error);
  bad = t;
  bad.probs.assign(3, 0.1f);
  EXPECT_THROW(bad.validate(), Error);
  bad = t;
  bad.weights[0] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_THROW(bad.validate(), Error);
  bad = t;
  bad.shape.top_k[0] = 0;
  EXPECT_THROW(bad.validate(), Error);
}

TEST(AccessStream, DecodeIsOneStepPerTokenAndLayerInTopKOrder) {
  const RoutingTrace t = make_trace({{{3, 1}, {0, 2}}, {{1, 0}, {2, 3}}}, 4);
  const AccessStream s = AccessStream::build(t);
  ASSERT_EQ(s.steps.size(), 4u);
  EXPECT_EQ(s.steps[1].layer, MoeLayerId(1));
  EXPECT_EQ(s.steps[2].first_token, TokenPos(1));
  const std::vector<ExpertKey> want{{MoeLayerId(0), ExpertId(3)}, {MoeLayerId(0), ExpertId(1)},
                                    {MoeLayerId(1), ExpertId(0)}, {MoeLayerId(1), ExpertId(2)},
                                    {MoeLayerId(0), ExpertId(1)}, {MoeLayerId(0), ExpertId(0)},
                                    {MoeLayerId(1), ExpertId(2)}, {MoeLayerId(1), ExpertId(3)}};
  EXPECT_EQ(s.accesses, want);
}

TEST(AccessStream, PrefillChunksAccessEachDistinctExpertOnce) {
  // Three prefill tokens then one decode token, one layer, k = 2.
  const RoutingTrace t = make_trace({{{0, 1}}, {{1, 2}}, {{0, 3}}, {{3, 2}}}, 4, 3);
  const AccessStream whole = AccessStream::build(t);
  ASSERT_EQ(whole.steps.size(), 2u);
  EXPECT_EQ(whole.steps[0].n_tokens, 3);
  EXPECT_EQ(whole.steps[0].phase, Phase::kPrefill);
  const std::vector<ExpertId> want{ExpertId(0), ExpertId(1), ExpertId(2), ExpertId(3)};
  std::vector<ExpertId> got;
  for (int64_t i = whole.steps[0].begin; i < whole.steps[0].end; ++i)
    got.push_back(whole.accesses[i].expert);
  EXPECT_EQ(got, want);
  const AccessStream chunked = AccessStream::build(t, {2});
  ASSERT_EQ(chunked.steps.size(), 3u);
  EXPECT_EQ(chunked.steps[0].end - chunked.steps[0].begin, 3);  // {0,1,2}
  EXPECT_EQ(chunked.steps[1].n_tokens, 1);
  EXPECT_EQ(AccessStream::build(t, {1}).size(), 8);
}

}  // namespace
}  // namespace moescope::policy
