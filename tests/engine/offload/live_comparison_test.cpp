// Live comparison through the real forward pass: shadow policies against an offline replay of the
// recorded stream, the engine's next-gate predictions against an independent computation, and
// the lossy gating variants (they change the output; exact runs do not).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "engine/common/error.h"
#include "engine/gguf/gguf_file.h"
#include "engine/model/perplexity.h"
#include "engine/model/routing_trace_recorder.h"
#include "engine/offload/expert_store.h"
#include "engine/policy/policy_factory.h"
#include "engine/policy/simulator.h"
#include "engine/tokenizer/tokenizer.h"
#include "tests/engine/offload/offload_test_util.h"

namespace moescope::offload {
namespace {

using test::GenRun;

// The prompt every run of this file prefills, then greedy decoding.
GenRun generate(Model& model, int n_decode) {
  return test::greedy_run(model, 10, 613, 29, n_decode);
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// Runs `config` with a recorder behind the store; the trace carries the measured compute times.
struct Recorded {
  GenRun run;
  policy::RoutingTrace trace;
  policy::CacheReport live;
  std::vector<policy::ShadowResult> shadows;
  policy::CacheCapacity capacity;
  LossyCounters lossy;
};

Recorded run_recorded(Model& model, const OffloadConfig& config, int n_decode) {
  Recorded r;
  RoutingTraceRecorder recorder(model, config.router_probs);
  auto store = ExpertStore::attach(model, config, &recorder);
  r.run = generate(model, n_decode);
  store->detach(model);
  model.set_observer(nullptr);
  r.trace = recorder.finish();
  r.trace.compute_ns = store->compute_times();
  r.live = store->decisions();
  r.shadows = store->shadow_results();
  r.capacity = store->capacity();
  r.lossy = store->lossy_counters();
  return r;
}

class Shadows : public ::testing::TestWithParam<std::string> {};

TEST_P(Shadows, EqualAnOfflineReplayOfTheSameStream) {
  auto model = test::load_model(GetParam());
  const ExpertLayout layout = test::layout_of(*model);
  OffloadConfig config;
  config.policy = "lru";
  config.prefetcher = "same-prev";
  config.budget = policy::Budget::slots(uint64_t(layout.total_experts() / 3));
  config.link = policy::LinkModel::preset("nvme");
  config.router_probs = true;  // for mrs
  config.compare = policy::parse_shadow_specs(
      "fifo,lfu:0.9,lru-global,arc,random:3,mrs,lru@none,lru-global@affinity:2,belady,sch:4,"
      "opt-global@none,stationary",
      config.prefetcher);
  const Recorded rec = run_recorded(*model, config, 10);
  ASSERT_EQ(rec.shadows.size(), config.compare.size());
  ASSERT_EQ(rec.trace.compute_ns.size(),
            size_t(rec.trace.n_tokens()) * size_t(rec.trace.n_layers()));

  const auto stream =
      std::make_shared<policy::AccessStream>(policy::AccessStream::build(rec.trace));
  policy::TimingModel timing;
  timing.link = config.link;
  for (size_t i = 0; i < rec.shadows.size(); ++i) {
    const policy::ShadowResult& shadow = rec.shadows[i];
    SCOPED_TRACE(shadow.policy + " @ " + shadow.prefetcher);
    const policy::PolicySpec spec = policy::parse_policy_spec(config.compare[i].policy);
    EXPECT_EQ(shadow.oracle, spec.oracle);
    policy::CacheSimulator sim(
        rec.trace.shape, policy::make_capacity(spec.pool, config.budget, rec.trace.shape),
        policy::make_policy(spec, {stream, nullptr}),
        policy::make_prefetcher(config.compare[i].prefetcher, {}), timing, spec.text);
    const policy::CacheReport& replayed = policy::replay(rec.trace, *stream, sim);
    EXPECT_GT(replayed.total().accesses, 0);
    EXPECT_TRUE(replayed == shadow.report) << "the shadow differs from the replay";
  }
  // The driving policy too, and the shadow of the driving spec equals it.
  const policy::PolicySpec lru = policy::parse_policy_spec("lru");
  policy::CacheSimulator sim(rec.trace.shape, rec.capacity, policy::make_policy(lru, {}),
                             policy::make_prefetcher("same-prev", {}), timing, lru.text);
  EXPECT_TRUE(policy::replay(rec.trace, *stream, sim) == rec.live);
  // Belady bounds every exact policy of the same pool on the same stream.
  const int64_t belady_hits = rec.shadows[8].report.total().hits;
  for (size_t i : {0, 1, 3, 4, 5, 6}) EXPECT_GE(belady_hits, rec.shadows[i].report.total().hits);
}

INSTANTIATE_TEST_SUITE_P(Models, Shadows,
                         ::testing::Values("llama-moe-q8_0", "qwen2moe-f32", "deepseek2-v3-f32"),
                         [](const auto& info) {
                           std::string s = info.param;
                           std::replace(s.begin(), s.end(), '-', '_');
                           return s;
                         });

// What next-gate(1, k') must predict, computed here in double from the file's tensors: layer
// l+1's FFN norm and router applied to the hidden state entering layer l.
class HiddenStates final : public MoeObserver {
 public:
  void on_forward_begin(TokenPos, int n_tokens) override { decode_ = n_tokens == 1; }
  void on_routing(const MoeRoutingEvent& e) override {
    if (decode_) hidden.push_back({e.layer.value, {e.hidden.begin(), e.hidden.end()}});
  }
  std::vector<std::pair<int32_t, std::vector<float>>> hidden;  // (block, hidden) per decode event

 private:
  bool decode_ = false;
};

std::vector<int32_t> reference_next_gate(const Model& model, int32_t block,
                                         const std::vector<float>& hidden, int32_t k) {
  const gguf::GgufFile& f = model.file();
  const auto tensor = [&](const std::string& name) {
    const gguf::TensorInfo* info = f.find_tensor(name);
    EXPECT_NE(info, nullptr) << name;
    const auto bytes = f.tensor_data(*info);
    return std::span(reinterpret_cast<const float*>(bytes.data()), bytes.size() / sizeof(float));
  };
  const auto norm = tensor(fmt::format("blk.{}.ffn_norm.weight", block));
  const auto router = tensor(fmt::format("blk.{}.ffn_gate_inp.weight", block));
  const size_t E = hidden.size();
  double sq = 0;
  for (float x : hidden) sq += double(x) * x;
  const double scale = 1.0 / std::sqrt(sq / double(E) + model.hparams().rms_eps);
  std::vector<std::pair<double, int32_t>> logits;
  for (size_t e = 0; e < router.size() / E; ++e) {
    double dot = 0;
    for (size_t i = 0; i < E; ++i) dot += router[e * E + i] * (hidden[i] * scale * norm[i]);
    logits.push_back({-dot, int32_t(e)});  // softmax is monotone: rank the logits
  }
  std::sort(logits.begin(), logits.end());
  std::vector<int32_t> top;
  for (int32_t j = 0; j < k; ++j) top.push_back(logits[size_t(j)].second);
  return top;
}

TEST(NextGate, PredictsWhatTheLaterRouterSaysAndScoresSanely) {
  auto model = test::load_model("llama-moe-f32");
  const ExpertLayout layout = test::layout_of(*model);
  const int32_t L = layout.n_layers(), k = int32_t(model->hparams().n_expert_used);
  ASSERT_EQ(L, 4);
  for (int32_t k_prime : {2, 3}) {
    SCOPED_TRACE(k_prime);
    OffloadConfig config;
    config.capacity = policy::CacheCapacity::uniform(L, 2);
    config.prefetcher = fmt::format("next-gate:1:{}", k_prime);
    HiddenStates hs;
    RoutingTraceRecorder recorder(*model, false);
    struct Both final : MoeObserver {
      MoeObserver *a, *b;
      void on_forward_begin(TokenPos p, int n) override {
        a->on_forward_begin(p, n);
        b->on_forward_begin(p, n);
      }
      void on_routing(const MoeRoutingEvent& e) override {
        a->on_routing(e);
        b->on_routing(e);
      }
      void on_forward_end() override {
        a->on_forward_end();
        b->on_forward_end();
      }
    } both;
    both.a = &hs;
    both.b = &recorder;
    auto store = ExpertStore::attach(*model, config, &both);
    const int n_decode = 12;
    const GenRun run = generate(*model, n_decode);
    store->detach(*model);
    model->set_observer(nullptr);
    const policy::RoutingTrace trace = recorder.finish();
    const policy::CacheCounters decode = store->decisions().phase[1];

    // Targets inside a token get k' predictions; the last layer's target is the next token's
    // first layer, whose hidden state does not exist yet: an empty prediction.
    EXPECT_EQ(decode.prefetch_predicted, int64_t(n_decode) * (L - 1) * k_prime);
    // The last decode token's predictions for its own later layers are scored; so is every
    // target, whether predicted or not, except the first decode token's first layer.
    EXPECT_EQ(decode.prefetch_routed, int64_t(n_decode) * L * k - k);

    int64_t correct = 0;
    ASSERT_EQ(hs.hidden.size(), size_t(n_decode) * size_t(L));
    for (size_t i = 0; i < hs.hidden.size(); ++i) {
      const int32_t m = int32_t(i % size_t(L));
      if (m + 1 >= L) continue;
      const std::vector<int32_t> want = reference_next_gate(
          *model, layout.block(MoeLayerId(m + 1)).value, hs.hidden[i].second, k_prime);
      const TokenPos t(int32_t(trace.n_tokens() - n_decode + int64_t(i / size_t(L))));
      for (ExpertId e : trace.experts(t, MoeLayerId(m + 1)))
        correct += std::count(want.begin(), want.end(), e.value);
    }
    // Up to a near-tie or two between float and double ranking.
    EXPECT_NEAR(double(decode.prefetch_correct), double(correct), 2.0);
    // Sane: clearly better than guessing k' of the 8 experts.
    const double chance = double(k) / double(layout.n_expert(MoeLayerId(0)));
    EXPECT_GT(decode.precision(), chance + 0.1);
    EXPECT_LE(decode.precision(), 1.0);
    EXPECT_GT(decode.recall(), 0.0);
    EXPECT_LE(decode.recall(), decode.precision() * double(k_prime) / double(k) + 1e-12);
    EXPECT_EQ(run.tokens.size(), size_t(10 + n_decode));
  }
}

TEST(LossyGating, AdaptiveTopKDropsExpertsChangesLogitsAndIsLabelled) {
  auto model = test::load_model("llama-moe-q8_0");
  const ExpertLayout layout = test::layout_of(*model);
  const GenRun resident = generate(*model, 8);

  OffloadConfig config;
  config.capacity = policy::CacheCapacity::uniform(layout.n_layers(), 2);
  config.lossy = parse_lossy("0.45", "");
  const Recorded lossy = run_recorded(*model, config, 8);
  EXPECT_GT(lossy.lossy.dropped, 0);
  EXPECT_FALSE(same_bits(lossy.run.logits, resident.logits)) << "adaptive top-k changed nothing";
  // The routing the model ran (and the cache saw) has fewer experts: exactly the dropped ones.
  const int64_t k = model->hparams().n_expert_used;
  EXPECT_EQ(int64_t(lossy.trace.selected.size()),
            lossy.trace.n_tokens() * lossy.trace.n_layers() * k - lossy.lossy.dropped);
  EXPECT_EQ(lossy.lossy.choices, lossy.trace.n_tokens() * lossy.trace.n_layers());

  // A per-layer list with the wrong length is an error; "0" drops nothing.
  config.lossy = parse_lossy("0.1,0.2", "");
  EXPECT_THROW(ExpertStore::attach(*model, config), Error);
  model->set_expert_provider(nullptr);
  config.lossy = parse_lossy("0", "");
  const Recorded zero = run_recorded(*model, config, 8);
  EXPECT_EQ(zero.lossy.dropped, 0);
  EXPECT_TRUE(same_bits(zero.run.logits, resident.logits));

  // Detached, and without lossy options, the model is exact again.
  EXPECT_EQ(model->routing_override(), nullptr);
  EXPECT_TRUE(same_bits(generate(*model, 8).logits, resident.logits));
}

TEST(LossyGating, SubstitutionUsesResidentExpertsAndChangesLogits) {
  auto model = test::load_model("llama-moe-q8_0");
  const ExpertLayout layout = test::layout_of(*model);
  const GenRun resident = generate(*model, 10);

  OffloadConfig exact_config;
  exact_config.capacity = policy::CacheCapacity::uniform(layout.n_layers(), 3);
  const Recorded exact = run_recorded(*model, exact_config, 10);
  EXPECT_TRUE(same_bits(exact.run.logits, resident.logits));

  OffloadConfig config = exact_config;
  config.lossy = parse_lossy("", "1");  // any resident expert may stand in
  const Recorded sub = run_recorded(*model, config, 10);
  EXPECT_GT(sub.lossy.substituted, 0);
  EXPECT_FALSE(same_bits(sub.run.logits, resident.logits));
  // A substitute is resident when chosen, so it is a hit: decode misses are exactly the missed
  // experts nothing could replace (with 3 slots and top-2 a resident unselected expert exists
  // once a layer's partition is full).
  EXPECT_GT(sub.live.phase[1].hit_rate(), exact.live.phase[1].hit_rate());
  EXPECT_LE(sub.live.phase[1].misses, sub.lossy.unsubstituted);

  // With EPS 0 only an exact tie could be replaced: on this model that never happens.
  config.lossy = parse_lossy("", "0");
  const Recorded none = run_recorded(*model, config, 10);
  EXPECT_EQ(none.lossy.substituted, 0);
  EXPECT_TRUE(same_bits(none.run.logits, resident.logits));
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(LossyGating, PerplexityMeasuresTheQualityCost) {
  auto model = test::load_model("llama-moe-f32");
  auto tokenizer = tokenizer::Tokenizer::from_gguf(model->file());
  const std::string text = read_file(std::filesystem::path(MOESCOPE_SHARED_DIR) / "reference" /
                                     "perplexity" / "text.txt");
  PerplexityOptions options;
  options.n_ctx = 64;
  options.n_chunks = 2;
  const double resident = compute_perplexity(*model, *tokenizer, text, options).ppl;
  const ExpertLayout layout = test::layout_of(*model);
  auto ppl_with = [&](const std::string& adaptive, const std::string& substitute) {
    OffloadConfig config;
    config.capacity = policy::CacheCapacity::uniform(layout.n_layers(), 2);
    config.lossy = parse_lossy(adaptive, substitute);
    auto store = ExpertStore::attach(*model, config);
    const double ppl = compute_perplexity(*model, *tokenizer, text, options).ppl;
    store->detach(*model);
    return ppl;
  };
  EXPECT_EQ(ppl_with("", ""), resident);  // exact offloading: the same number, bit for bit
  EXPECT_NE(ppl_with("0.45", ""), resident);
  EXPECT_NE(ppl_with("", "0.2"), resident);
}

}  // namespace
}  // namespace moescope::offload
