// Model API behaviour: context limits, cache truncation, last-token logits, bad input, thread
// count independence, the MoE observer and the expert-provider seam.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <set>

#include "engine/common/error.h"
#include "engine/model/model.h"
#include "engine/model/router_probe.h"
#include "tests/engine/model/model_builder.h"
#include "tests/engine/model/reference.h"

namespace moescope::test {
namespace {

using ::testing::HasSubstr;

std::unique_ptr<Model> open(const std::string& model, ModelOptions options = {}) {
  if (options.n_threads == 0) options.n_threads = 2;
  return Model::load(model_path(model), options);
}

std::vector<int32_t> prompt_tokens() {
  return read_reference("llama-moe-f32").tokens;
}

std::vector<float> run_all(Model& m, const std::vector<int32_t>& tokens) {
  auto state = m.new_state();
  std::vector<float> logits(tokens.size() * m.n_vocab());
  m.forward(tokens, *state, logits, true);
  return logits;
}

TEST(ModelApi, ContextOverflowNamesNctxAndKeepsTheState) {
  ModelOptions options;
  options.n_ctx = 8;
  auto m = open("llama-moe-f32", options);
  EXPECT_EQ(m->n_ctx(), 8);
  auto state = m->new_state();
  const auto tokens = prompt_tokens();
  std::vector<float> logits(tokens.size() * m->n_vocab());
  m->forward({tokens.data(), 5}, *state, logits, true);
  try {
    m->forward({tokens.data() + 5, 5}, *state, logits, true);
    FAIL() << "no overflow error";
  } catch (const Error& e) {
    EXPECT_THAT(std::string(e.what()), HasSubstr("n_ctx 8"));
  }
  EXPECT_EQ(state->n_past(), 5);
  m->forward({tokens.data() + 5, 3}, *state, logits, true);
  EXPECT_EQ(state->n_past(), 8);
}

TEST(ModelApi, DefaultContextIsTrainingContextCappedAt4096) {
  EXPECT_EQ(open("llama-moe-f32")->n_ctx(), 256);  // the tiny models train on 256
}

TEST(ModelApi, TruncatedCacheRecomputesTheSameLogits) {
  auto m = open("gpt-oss-f32");  // sliding window 8: exercises the window across calls too
  const auto tokens = prompt_tokens();
  const auto full = run_all(*m, tokens);
  const int64_t V = m->n_vocab();
  auto state = m->new_state();
  std::vector<float> logits(tokens.size() * V);
  m->forward({tokens.data(), 20}, *state, logits, true);
  state->truncate(7);
  EXPECT_EQ(state->n_past(), 7);
  m->forward({tokens.data() + 7, tokens.size() - 7}, *state, logits, true);
  for (size_t t = 7; t < tokens.size(); ++t) {
    for (int64_t i = 0; i < V; ++i) {
      ASSERT_NEAR(logits[(t - 7) * V + i], full[t * V + i], 1e-4) << "position " << t;
    }
  }
  EXPECT_THROW(state->truncate(100), Error);
  state->clear();
  EXPECT_EQ(state->n_past(), 0);
}

TEST(ModelApi, LastTokenLogitsEqualTheLastRow) {
  auto m = open("qwen2moe-q8_0");
  const auto tokens = prompt_tokens();
  const auto full = run_all(*m, tokens);
  auto state = m->new_state();
  std::vector<float> last(m->n_vocab());
  m->forward(tokens, *state, last, false);
  // Only the output head's batch size differs (1 row instead of n): equal up to the kernels'
  // batch-dependent accumulation order.
  const float* row = &full[(tokens.size() - 1) * m->n_vocab()];
  for (int i = 0; i < m->n_vocab(); ++i) ASSERT_NEAR(last[i], row[i], 1e-4) << i;
}

TEST(ModelApi, BadInputIsAnErrorAndLeavesTheStateAlone) {
  auto m = open("llama-moe-f32");
  auto state = m->new_state();
  std::vector<float> logits(4 * m->n_vocab());
  const std::vector<int32_t> bad_id = {1, 4096};
  EXPECT_THROW(m->forward(bad_id, *state, logits, true), Error);
  const std::vector<int32_t> negative = {-1};
  EXPECT_THROW(m->forward(negative, *state, logits, true), Error);
  EXPECT_THROW(m->forward({}, *state, logits, true), Error);
  const std::vector<int32_t> five = {1, 2, 3, 4, 5};
  EXPECT_THROW(m->forward(five, *state, logits, true), Error);  // 4 rows of logits only
  EXPECT_EQ(state->n_past(), 0);
  auto other = open("olmoe-f32");
  auto foreign = other->new_state();
  EXPECT_THROW(m->forward(bad_id, *foreign, logits, true), Error);
}

TEST(ModelApi, ThreadCountDoesNotChangeTheResult) {
  const auto tokens = prompt_tokens();
  for (const std::string model : {"qwen3moe-q8_0", "deepseek2-lite-f32"}) {
    ModelOptions one, three;
    one.n_threads = 1;
    three.n_threads = 3;
    const auto a = run_all(*open(model, one), tokens);
    const auto b = run_all(*open(model, three), tokens);
    // The batched kernels may tile rows per thread; anything beyond rounding would be a race.
    for (size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a[i], b[i], 1e-4) << model << " " << i;
  }
}

// Checks what the observer sees against independent facts.
class CheckingObserver : public MoeObserver {
 public:
  void on_forward_begin(TokenPos first, int n) override { begins.push_back({first.value, n}); }
  void on_forward_end() override { ++ends; }
  void on_routing(const MoeRoutingEvent& e) override {
    order.push_back({e.layer.value, e.pos.value});
    if (e.layer.value == 0) {
      hidden0[e.pos.value].assign(e.hidden.begin(), e.hidden.end());
      experts0[e.pos.value].assign(e.experts.begin(), e.experts.end());
    }
    n_logits = e.router_logits.size();
    std::set<int> distinct;
    double sum = 0;
    for (size_t k = 0; k < e.experts.size(); ++k) {
      distinct.insert(e.experts[k].value);
      sum += e.weights[k];
      if (k > 0) {
        EXPECT_GE(e.scores[k - 1], e.scores[k]);
      }
    }
    EXPECT_EQ(distinct.size(), e.experts.size());
    max_weight_sum_error = std::max(max_weight_sum_error, std::abs(sum - 1.0));
  }
  std::vector<std::pair<int, int>> begins;
  int ends = 0;
  std::vector<std::pair<int, int>> order;  // (layer, pos)
  std::map<int, std::vector<float>> hidden0;
  std::map<int, std::vector<ExpertId>> experts0;
  size_t n_logits = 0;
  double max_weight_sum_error = 0;
};

TEST(MoeObserver, SeesEveryTokenAndLayerWithConsistentData) {
  CheckingObserver observer;
  ModelOptions options;
  options.observer = &observer;
  auto m = open("llama-moe-f32", options);
  const auto tokens = prompt_tokens();
  run_all(*m, tokens);
  const int n = static_cast<int>(tokens.size());
  EXPECT_EQ(observer.begins, (std::vector<std::pair<int, int>>{{0, n}}));
  EXPECT_EQ(observer.ends, 1);
  ASSERT_EQ(observer.order.size(), static_cast<size_t>(4 * n));
  for (size_t i = 0; i < observer.order.size(); ++i) {  // layer-major, positions in order
    EXPECT_EQ(observer.order[i], std::make_pair(static_cast<int>(i) / n, static_cast<int>(i) % n));
  }
  EXPECT_EQ(observer.n_logits, 8u);
  EXPECT_LT(observer.max_weight_sum_error, 1e-6);  // Mixtral renormalises the top-k weights
  // The hidden state is the residual stream after the layer's attention, the router's input
  // before its norm: layer 0's router probed on it (the FFN norm, then the router) chooses what
  // layer 0 chose. It is no longer the token's embedding row, which enters the attention.
  const auto embd = tensor_values(m->file(), "token_embd.weight");
  RouterProbe probe(*m);
  std::vector<ExpertId> probed;
  for (int t = 0; t < n; ++t) {
    const std::vector<float> row(embd.begin() + tokens[t] * 128,
                                 embd.begin() + (tokens[t] + 1) * 128);
    EXPECT_NE(observer.hidden0[t], row) << t;
    const auto& chosen = observer.experts0[t];
    probe.top_experts(LayerId(0), observer.hidden0[t], int32_t(chosen.size()), probed);
    EXPECT_EQ(probed, chosen) << t;
  }
  // Removing the observer stops the callbacks.
  m->set_observer(nullptr);
  run_all(*m, tokens);
  EXPECT_EQ(observer.ends, 1);
}

// Serves experts from copies packed the way an expert store packs them, and checks the protocol.
class PackingProvider : public ExpertProvider {
 public:
  explicit PackingProvider(const Model& model) : model_(model) {}

  void hint_upcoming(LayerId layer, std::span<const ExpertId> experts) override {
    for (ExpertId e : experts) pending_.push_back({layer.value, e.value});
  }
  ExpertWeights acquire(LayerId layer, ExpertId expert) override {
    EXPECT_EQ(held_, 0) << "more than one expert held";
    ++held_;
    ++acquires;
    // Every acquire was announced, in order.
    EXPECT_FALSE(pending_.empty());
    if (!pending_.empty()) {
      EXPECT_EQ(pending_.front(), std::make_pair(layer.value, expert.value));
      pending_.erase(pending_.begin());
    }
    const LayerExpertTensors& t = model_.expert_tensors()[layer.value];
    buffer_.assign(t.packed_bytes(), std::byte{0xAB});
    for (size_t i = 0; i < kExpertPartCount; ++i) {
      const auto part = static_cast<ExpertPart>(i);
      if (!t.has(part)) continue;
      const auto bytes = model_.file().tensor_data(*t.part(part));
      std::memcpy(buffer_.data() + t.packed_offset(part),
                  bytes.data() + expert.value * t.slice_bytes(part), t.slice_bytes(part));
    }
    return packed_expert_views(t, buffer_.data());
  }
  void release(LayerId, ExpertId) override {
    --held_;
    ++releases;
    buffer_.assign(buffer_.size(), std::byte{0xCD});  // released memory must not be read again
  }

  int acquires = 0;
  int releases = 0;
  bool all_hints_used() const { return pending_.empty(); }

 private:
  const Model& model_;
  int held_ = 0;
  std::vector<std::pair<int, int>> pending_;
  std::vector<std::byte> buffer_;
};

TEST(ExpertProvider, PackedCopiesGiveBitIdenticalLogits) {
  const auto tokens = prompt_tokens();
  for (const std::string model :
       {"llama-moe-q8_0", "gpt-oss-mxfp4", "deepseek2-v3-q8_0", "qwen2moe-f32"}) {
    SCOPED_TRACE(model);
    auto m = open(model);
    auto decode = [&] {  // token by token, the logits of every step
      auto state = m->new_state();
      std::vector<float> logits(tokens.size() * m->n_vocab());
      for (size_t t = 0; t < tokens.size(); ++t) {
        m->forward({&tokens[t], 1}, *state, {&logits[t * m->n_vocab()], logits.size()}, false);
      }
      return logits;
    };
    const auto mapped = run_all(*m, tokens);
    const auto mapped_decode = decode();
    PackingProvider provider(*m);
    m->set_expert_provider(&provider);
    EXPECT_EQ(run_all(*m, tokens), mapped);
    EXPECT_EQ(decode(), mapped_decode);
    EXPECT_GT(provider.acquires, 0);
    EXPECT_EQ(provider.acquires, provider.releases);
    EXPECT_TRUE(provider.all_hints_used());
    m->set_expert_provider(nullptr);
    EXPECT_EQ(run_all(*m, tokens), mapped);
  }
}

// A provider whose load fails: the error reaches the caller and the expert is released.
class FailingProvider : public ExpertProvider {
 public:
  ExpertWeights acquire(LayerId, ExpertId) override { fail("expert store: disk on fire"); }
  void release(LayerId, ExpertId) override { ++releases; }
  int releases = 0;
};

TEST(ExpertProvider, LoadErrorsPropagate) {
  FailingProvider provider;
  ModelOptions options;
  options.experts = &provider;
  auto m = open("olmoe-f32", options);
  auto state = m->new_state();
  std::vector<float> logits(m->n_vocab());
  const std::vector<int32_t> tokens = {1, 2};
  try {
    m->forward(tokens, *state, logits, false);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_THAT(std::string(e.what()), HasSubstr("disk on fire"));
  }
  EXPECT_EQ(state->n_past(), 0);
}

}  // namespace
}  // namespace moescope::test
