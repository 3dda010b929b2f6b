// RoutingTraceRecorder: the trace it builds from the forward pass's callbacks holds llama.cpp's
// routing for the reference models, the observer's raw events (across prefill and decode calls),
// and statistics that match a count by hand.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include "engine/common/error.h"
#include "engine/model/model.h"
#include "engine/model/routing_trace_recorder.h"
#include "engine/policy/routing_stats.h"
#include "tests/engine/model/reference.h"

namespace moescope::test {
namespace {

using ::testing::HasSubstr;

std::unique_ptr<Model> open(const std::string& model) {
  ModelOptions options;
  options.n_threads = 2;
  return Model::load(model_path(model), options);
}

std::vector<int> ids(std::span<const ExpertId> experts) {
  std::vector<int> out;
  for (ExpertId e : experts) out.push_back(e.value);
  return out;
}

// Keeps every raw event and passes it on to the recorder.
class Tee : public MoeObserver {
 public:
  explicit Tee(MoeObserver& next) : next_(next) {}
  void on_forward_begin(TokenPos first, int n) override { next_.on_forward_begin(first, n); }
  void on_routing(const MoeRoutingEvent& e) override {
    Raw& r = raw[{e.layer.value, e.pos.value}];
    r.experts = ids(e.experts);
    r.weights.assign(e.weights.begin(), e.weights.end());
    r.logits.assign(e.router_logits.begin(), e.router_logits.end());
    next_.on_routing(e);
  }
  void on_forward_end() override { next_.on_forward_end(); }

  struct Raw {
    std::vector<int> experts;
    std::vector<float> weights;
    std::vector<float> logits;
  };
  std::map<std::pair<int, int>, Raw> raw;  // (model layer, position)

 private:
  MoeObserver& next_;
};

class RecorderMatchesLlamaCpp : public ::testing::TestWithParam<std::string> {};

TEST_P(RecorderMatchesLlamaCpp, OnePrefill) {
  const ReferenceRun ref = read_reference(GetParam());
  auto model = open(GetParam());
  RoutingTraceRecorder recorder(*model, /*with_probs=*/true);
  model->set_observer(&recorder);
  auto state = model->new_state();
  std::vector<float> logits(static_cast<size_t>(model->n_vocab()));
  recorder.describe_next_forward(ref.tokens);
  model->forward(ref.tokens, *state, logits, false);
  const policy::RoutingTrace trace = recorder.finish();

  const int n = static_cast<int>(ref.tokens.size());
  ASSERT_EQ(trace.n_tokens(), n);
  EXPECT_EQ(trace.token_id, ref.tokens);
  std::vector<int> moe_layers;
  for (const auto& [layer, positions] : ref.routing) moe_layers.push_back(layer);
  EXPECT_EQ(trace.shape.model_layer, moe_layers);
  for (int32_t m = 0; m < trace.n_layers(); ++m) {
    const auto& expected = ref.routing.at(trace.shape.model_layer[m]);
    EXPECT_EQ(trace.shape.n_experts[m], model->hparams().n_expert);
    EXPECT_EQ(trace.shape.top_k[m], model->hparams().n_expert_used);
    for (int t = 0; t < n; ++t) {
      EXPECT_EQ(trace.phase[t], policy::Phase::kPrefill);
      const policy::TokenLayerRouting r = trace.routing(TokenPos(t), MoeLayerId(m));
      EXPECT_EQ(ids(r.experts), expected[t]) << "layer " << m << " position " << t;
      // The router distribution sums to 1 and puts the top-1 expert first.
      ASSERT_EQ(r.probs.size(), static_cast<size_t>(trace.shape.n_experts[m]));
      EXPECT_NEAR(std::accumulate(r.probs.begin(), r.probs.end(), 0.0), 1.0, 1e-5);
      // (Sigmoid routing selects with a bias and expert groups, so only softmax ranks alone.)
      if (model->hparams().gating != GatingFunc::Sigmoid) {
        const float best = *std::max_element(r.probs.begin(), r.probs.end());
        EXPECT_FLOAT_EQ(r.probs[r.experts[0].value], best) << "layer " << m << " position " << t;
      }
    }
  }
  // The statistics count what llama.cpp selected.
  const policy::RoutingStats stats = policy::routing_stats(trace);
  for (int32_t m = 0; m < trace.n_layers(); ++m) {
    std::vector<int64_t> load(static_cast<size_t>(trace.shape.n_experts[m]), 0);
    for (const auto& experts : ref.routing.at(trace.shape.model_layer[m]))
      for (int e : experts) ++load[e];
    EXPECT_EQ(stats.layers[m].load, load) << "layer " << m;
  }
}

// Softmax (llama), softmax after top-k (gpt-oss), sigmoid with a dense first layer (DeepSeek-V3).
INSTANTIATE_TEST_SUITE_P(Models, RecorderMatchesLlamaCpp,
                         ::testing::Values("llama-moe-f32", "gpt-oss-f32", "deepseek2-v3-f32"));

TEST(RoutingTraceRecorder, HoldsTheRawEventsOfPrefillAndDecodeCalls) {
  const std::vector<int32_t> tokens = read_reference("llama-moe-f32").tokens;
  auto model = open("llama-moe-f32");
  RoutingTraceRecorder recorder(*model, /*with_probs=*/true);
  Tee tee(recorder);
  model->set_observer(&tee);
  auto state = model->new_state();
  std::vector<float> logits(static_cast<size_t>(model->n_vocab()));
  const int n_prefill = 12, n_decode = 6;
  recorder.describe_next_forward({tokens.data(), n_prefill});
  model->forward({tokens.data(), n_prefill}, *state, logits, false);
  for (int i = 0; i < n_decode; ++i) {
    recorder.describe_next_forward({tokens.data() + n_prefill + i, 1});
    model->forward({tokens.data() + n_prefill + i, 1}, *state, logits, false);
  }
  EXPECT_EQ(recorder.n_tokens(), n_prefill + n_decode);
  const policy::RoutingTrace trace = recorder.finish();
  EXPECT_EQ(recorder.n_tokens(), 0);
  EXPECT_NO_THROW(policy::RoutingTrace(trace).validate());

  const int n = n_prefill + n_decode;
  ASSERT_EQ(trace.n_tokens(), n);
  ASSERT_EQ(tee.raw.size(), static_cast<size_t>(n * trace.n_layers()));
  std::vector<std::vector<int64_t>> load(trace.n_layers(), std::vector<int64_t>(8, 0));
  for (int t = 0; t < n; ++t) {
    EXPECT_EQ(trace.phase[t], t < n_prefill ? policy::Phase::kPrefill : policy::Phase::kDecode);
    EXPECT_EQ(trace.token_id[t], tokens[t]);
    for (int32_t m = 0; m < trace.n_layers(); ++m) {
      const Tee::Raw& raw = tee.raw.at({trace.shape.model_layer[m], t});
      const policy::TokenLayerRouting r = trace.routing(TokenPos(t), MoeLayerId(m));
      EXPECT_EQ(ids(r.experts), raw.experts);
      EXPECT_EQ(std::vector<float>(r.weights.begin(), r.weights.end()), raw.weights);
      // softmax of the raw logits, computed here in double
      const float max_logit = *std::max_element(raw.logits.begin(), raw.logits.end());
      double sum = 0;
      for (float x : raw.logits) sum += std::exp(double(x) - max_logit);
      for (size_t e = 0; e < raw.logits.size(); ++e)
        EXPECT_NEAR(r.probs[e], std::exp(double(raw.logits[e]) - max_logit) / sum, 1e-6);
      for (int e : raw.experts) ++load[m][e];
    }
  }
  const policy::RoutingStats stats = policy::routing_stats(trace);
  const policy::RoutingStats decode = policy::routing_stats(trace, policy::PhaseFilter::kDecode);
  for (int32_t m = 0; m < trace.n_layers(); ++m) {
    EXPECT_EQ(stats.layers[m].load, load[m]);
    EXPECT_EQ(stats.layers[m].activations, int64_t{n} * 2);
    EXPECT_EQ(decode.layers[m].tokens, n_decode);
  }
}

TEST(RoutingTraceRecorder, WithoutADescriptionTokenIdsAreUnknownAndPhaseFollowsTheCallSize) {
  const std::vector<int32_t> tokens = read_reference("llama-moe-f32").tokens;
  auto model = open("llama-moe-f32");
  RoutingTraceRecorder recorder(*model, /*with_probs=*/false);
  model->set_observer(&recorder);
  auto state = model->new_state();
  std::vector<float> logits(static_cast<size_t>(model->n_vocab()));
  model->forward({tokens.data(), 3}, *state, logits, false);
  model->forward({tokens.data() + 3, 1}, *state, logits, false);
  policy::RoutingTrace trace = recorder.finish();
  EXPECT_TRUE(trace.token_id.empty());
  EXPECT_FALSE(trace.has_probs());
  EXPECT_EQ(trace.phase,
            (std::vector<policy::Phase>{policy::Phase::kPrefill, policy::Phase::kPrefill,
                                        policy::Phase::kPrefill, policy::Phase::kDecode}));
  EXPECT_TRUE(std::isnan(policy::routing_stats(trace).layers[0].router_entropy_bits));
  // A finished recorder starts over.
  model->forward({tokens.data() + 4, 2}, *state, logits, false);
  EXPECT_EQ(recorder.finish().n_tokens(), 2);
}

TEST(RoutingTraceRecorder, RejectsADescriptionOfTheWrongLength) {
  const std::vector<int32_t> tokens = read_reference("llama-moe-f32").tokens;
  auto model = open("llama-moe-f32");
  RoutingTraceRecorder recorder(*model, false);
  model->set_observer(&recorder);
  auto state = model->new_state();
  std::vector<float> logits(static_cast<size_t>(model->n_vocab()));
  recorder.describe_next_forward({tokens.data(), 2});
  try {
    model->forward({tokens.data(), 3}, *state, logits, false);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_THAT(std::string(e.what()), HasSubstr("2 tokens but the forward call has 3"));
  }
}

TEST(RouterDistribution, IsTheGatingFunctionNormalised) {
  const std::vector<float> logits = {1.0f, -2.0f, 0.5f, 3.0f};
  std::vector<float> p(4);
  router_distribution(GatingFunc::Softmax, logits, p);
  double z = 0;
  for (float x : logits) z += std::exp(double(x));
  for (size_t i = 0; i < 4; ++i) EXPECT_NEAR(p[i], std::exp(double(logits[i])) / z, 1e-7);

  router_distribution(GatingFunc::Sigmoid, logits, p);
  double s = 0;
  for (float x : logits) s += 1.0 / (1.0 + std::exp(-double(x)));
  for (size_t i = 0; i < 4; ++i)
    EXPECT_NEAR(p[i], 1.0 / (1.0 + std::exp(-double(logits[i]))) / s, 1e-7);

  router_distribution(GatingFunc::SqrtSoftplus, logits, p);
  double q = 0;
  for (float x : logits) q += std::sqrt(std::log1p(std::exp(double(x))));
  for (size_t i = 0; i < 4; ++i)
    EXPECT_NEAR(p[i], std::sqrt(std::log1p(std::exp(double(logits[i])))) / q, 1e-7);
}

}  // namespace
}  // namespace moescope::test
