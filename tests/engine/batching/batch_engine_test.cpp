// The batch engine on the default model: 16 prompts decoded together (greedy) give every request
// exactly the tokens and text of its solo run with Generator::generate, whatever the scheduler,
// the batch limits, late joins and offloading (the ExpertStore as the expert provider).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/batching/batch_engine.h"
#include "engine/batching/capacity_aware.h"
#include "engine/batching/capacity_gating.h"
#include "engine/common/error.h"
#include "engine/model/model.h"
#include "engine/model/routing.h"
#include "engine/offload/expert_store.h"
#include "engine/tokenizer/tokenizer.h"

namespace moescope::batching {
namespace {

const std::vector<std::string> kPrompts = {
    "It is a truth universally acknowledged, that a single man in possession of a good fortune",
    "In the beginning God created the heaven and the earth.",
    "The hacker ethic holds that",
    "Blessed is the man that walketh not in the counsel of the ungodly,",
    "Mrs. Dashwood was",
    "CYNIC, n. A blackguard whose faulty vision sees things as they are",
    "The LORD is my shepherd; I shall not want. He maketh me to lie down in green pastures",
    "kludge",
    "Emma Woodhouse, handsome, clever, and rich, with a comfortable home and happy disposition,",
    "And it came to pass",
    "A program that",
    "Here the psalmist",
    "She was",
    "The bug in the",
    "Praise ye the LORD. Praise God in his sanctuary: praise him in the firmament of his power.",
    "Then said Jesus unto them",
};

struct Fixture {
  std::unique_ptr<Model> model;
  std::unique_ptr<tokenizer::Tokenizer> tokenizer;
  std::vector<std::vector<int32_t>> prompts;
  GenerationOptions options;
};

Fixture& fixture() {
  static Fixture f = [] {
    Fixture f;
    ModelOptions mo;
    mo.n_threads = 2;
    f.model = Model::load(MOESCOPE_SOURCE_DIR "/resources/models/moescope-default-q8_0.gguf", mo);
    f.tokenizer = tokenizer::Tokenizer::from_gguf(f.model->file());
    Generator g(*f.model, *f.tokenizer);
    for (const auto& p : kPrompts) f.prompts.push_back(g.tokenize_prompt(p));
    f.options.max_new_tokens = 20;
    f.options.sampling.temperature = 0;  // greedy
    f.options.n_batch = 16;              // long prompts prefill in several chunks
    return f;
  }();
  return f;
}

std::vector<GenerationResult> solo_runs() {
  static const std::vector<GenerationResult> runs = [] {
    Fixture& f = fixture();
    Generator g(*f.model, *f.tokenizer);
    std::vector<GenerationResult> out;
    for (const auto& p : f.prompts) out.push_back(g.generate(p, f.options));
    return out;
  }();
  return runs;
}

// Runs every prompt through one engine; prompts from `late` on join after `join_after` steps.
std::vector<RequestResult> batched(const BatchOptions& options, size_t late = 99,
                                   int join_after = 0) {
  Fixture& f = fixture();
  BatchEngine engine(*f.model, *f.tokenizer, options);
  for (size_t i = 0; i < std::min(late, f.prompts.size()); ++i)
    engine.submit(f.prompts[i], f.options);
  for (int s = 0; s < join_after && engine.step(); ++s) {
  }
  for (size_t i = late; i < f.prompts.size(); ++i) engine.submit(f.prompts[i], f.options);
  while (engine.step()) {
  }
  return engine.results();
}

void expect_solo(const std::vector<RequestResult>& got) {
  const auto& solo = solo_runs();
  ASSERT_EQ(got.size(), solo.size());
  for (size_t i = 0; i < got.size(); ++i) {
    SCOPED_TRACE("request " + std::to_string(i));
    EXPECT_TRUE(got[i].finished);
    EXPECT_EQ(got[i].tokens, solo[i].tokens);
    EXPECT_EQ(got[i].text, solo[i].text);
    EXPECT_EQ(got[i].stop_reason, solo[i].stats.stop_reason);
  }
}

BatchOptions with(const std::string& scheduler, int max_batch, int max_tokens = 512) {
  BatchOptions o;
  o.scheduler = scheduler;
  o.limits.max_batch = max_batch;
  o.limits.max_tokens = max_tokens;
  return o;
}

TEST(BatchEngine, SixteenPromptsTogetherGiveTheirSoloTokens) {
  ASSERT_GT(fixture().prompts[0].size(), size_t(fixture().options.n_batch));  // chunked prefill
  for (const std::string scheduler : {"fifo", "expert-aware"}) {
    SCOPED_TRACE(scheduler);
    const auto got = batched(with(scheduler, 16));
    expect_solo(got);
  }
}

TEST(BatchEngine, SmallBatchesTokenLimitsAndLateJoinsStayExact) {
  for (const std::string scheduler : {"fifo", "expert-aware"}) {
    SCOPED_TRACE(scheduler);
    expect_solo(batched(with(scheduler, 5, 40), /*late=*/10, /*join_after=*/7));
  }
}

TEST(BatchEngine, OffloadedThroughTheExpertStoreStaysExact) {
  Fixture& f = fixture();
  offload::OffloadConfig config;
  const auto& hp = f.model->hparams();
  config.budget = policy::Budget::slots(uint64_t(hp.n_layer * hp.n_expert / 4));
  for (const std::string scheduler : {"fifo", "expert-aware"}) {
    SCOPED_TRACE(scheduler);
    auto store = offload::ExpertStore::attach(*f.model, config);
    std::vector<RequestResult> got;
    int64_t steps = 0;
    {
      BatchEngine engine(*f.model, *f.tokenizer, with(scheduler, 6));
      for (const auto& p : f.prompts) engine.submit(p, f.options);
      while (engine.step()) {
      }
      got = engine.results();
      steps = int64_t(engine.steps().size());
    }
    const auto stats = store->stats();
    store->detach(*f.model);
    expect_solo(got);
    EXPECT_GT(stats.loads, 0);  // the experts really came through the store
    EXPECT_GT(steps, 0);
  }
}

TEST(BatchEngine, StepsRespectTheLimitsAndCountExperts) {
  Fixture& f = fixture();
  BatchEngine engine(*f.model, *f.tokenizer, with("fifo", 4, 40));
  for (const auto& p : f.prompts) engine.submit(p, f.options);
  while (engine.step()) {
  }
  const auto& hp = f.model->hparams();
  for (const StepStats& s : engine.steps()) {
    EXPECT_LE(s.requests, 4);
    EXPECT_LE(s.rows, 40);
    for (int64_t l = 0; l < hp.n_layer; ++l) {
      if (!hp.is_moe_layer(l)) continue;
      EXPECT_EQ(s.routings[l], s.rows * hp.n_expert_used);  // every row routes k experts
      EXPECT_GE(s.distinct_experts[l], hp.n_expert_used);
      EXPECT_LE(s.distinct_experts[l], std::min<int64_t>(hp.n_expert, s.routings[l]));
      EXPECT_GE(s.max_tokens_per_expert[l] * s.distinct_experts[l], s.routings[l]);
    }
  }
  // FIFO takes the oldest requests that fit: request 0's 16-token chunks leave room for only
  // short chunks beside them, so some later request starts before request 0 finishes, but no
  // request ever starts before an older one whose chunk fits alongside.
  const auto r = engine.results();
  EXPECT_LT(r[0].first_token_ms, r[15].first_token_ms);
  BatchEngine roomy(*f.model, *f.tokenizer, with("fifo", 4, 64));
  for (const auto& p : f.prompts) roomy.submit(p, f.options);
  while (roomy.step()) {
  }
  // With room for four chunks, the first four requests run alone until one finishes.
  const auto q = roomy.results();
  for (int i = 0; i < 4; ++i) EXPECT_LT(q[i].first_token_ms, q[4].first_token_ms);
  EXPECT_EQ(roomy.steps().front().requests, 4);
}

TEST(BatchEngine, RejectsWhatCannotRun) {
  Fixture& f = fixture();
  BatchEngine engine(*f.model, *f.tokenizer, with("fifo", 4, 8));
  EXPECT_THROW(engine.submit({}, f.options), Error);
  EXPECT_THROW(engine.submit(std::vector<int32_t>(f.model->n_ctx() + 1, 1), f.options), Error);
  EXPECT_THROW(engine.submit(f.prompts[0], f.options), Error);  // a 16-token chunk > 8 per step
  EXPECT_FALSE(engine.active());
  EXPECT_FALSE(engine.step());
  EXPECT_THROW(BatchEngine(*f.model, *f.tokenizer, with("lifo", 4)), Error);
  EXPECT_THROW(BatchEngine(*f.model, *f.tokenizer, with("fifo", 0)), Error);
}

// deepseek2 (multi-head latent attention, a leading dense layer, shared experts; the V3 variant
// with q-lora, sigmoid routing over expert groups): the reference models' requests decoded
// together (greedy) give each request its solo tokens, under both schedulers.
TEST(BatchEngine, Deepseek2RequestsTogetherGiveTheirSoloTokens) {
  for (const std::string name : {"deepseek2-lite-q8_0", "deepseek2-v3-f32"}) {
    SCOPED_TRACE(name);
    ModelOptions mo;
    mo.n_threads = 2;
    auto model =
        Model::load(std::string(MOESCOPE_SHARED_DIR) + "/reference/models/" + name + ".gguf", mo);
    ASSERT_EQ(model->hparams().arch, Architecture::Deepseek2);
    auto tok = tokenizer::Tokenizer::from_gguf(model->file());
    Generator g(*model, *tok);
    GenerationOptions options;
    options.max_new_tokens = 12;
    options.sampling.temperature = 0;  // greedy
    options.n_batch = 8;               // longer prompts prefill in several chunks
    std::vector<std::vector<int32_t>> prompts;
    std::vector<GenerationResult> solo;
    for (size_t i = 0; i < 6; ++i) {
      prompts.push_back(g.tokenize_prompt(kPrompts[i]));
      solo.push_back(g.generate(prompts.back(), options));
    }
    for (const std::string scheduler : {"fifo", "expert-aware"}) {
      SCOPED_TRACE(scheduler);
      BatchEngine engine(*model, *tok, with(scheduler, 4, 24));
      for (const auto& p : prompts) engine.submit(p, options);
      while (engine.step()) {
      }
      const std::vector<RequestResult> got = engine.results();
      ASSERT_EQ(got.size(), solo.size());
      int max_rows = 0;
      for (const StepStats& s : engine.steps()) max_rows = std::max(max_rows, int(s.requests));
      EXPECT_GT(max_rows, 1);  // requests really shared steps
      for (size_t i = 0; i < got.size(); ++i) {
        SCOPED_TRACE("request " + std::to_string(i));
        EXPECT_TRUE(got[i].finished);
        EXPECT_FALSE(got[i].tokens.empty());
        EXPECT_EQ(got[i].tokens, solo[i].tokens);
      }
    }
  }
}

TEST(BatchEngine, CapacityGatingIsLossyAndBoundsTheExperts) {
  Fixture& f = fixture();
  const auto& hp = f.model->hparams();
  CapacityGating gating({1.0, 1}, routing_params(hp));
  f.model->set_routing_override(&gating);
  std::vector<RequestResult> got;
  {
    BatchEngine engine(*f.model, *f.tokenizer, with("fifo", 16));
    for (const auto& p : f.prompts) engine.submit(p, f.options);
    while (engine.step()) {
    }
    got = engine.results();
  }
  f.model->set_routing_override(nullptr);
  ASSERT_FALSE(gating.records().empty());
  int64_t dropped = 0;
  for (const CapacityRecord& r : gating.records()) {
    dropped += r.dropped;
    EXPECT_LE(r.dropped, r.routings);
    EXPECT_EQ(r.routings, int64_t(r.n_tokens) * hp.n_expert_used);
    EXPECT_EQ(r.capacity, expert_capacity(1.0, hp.n_expert_used, r.n_tokens, hp.n_expert));
  }
  EXPECT_GT(dropped, 0);  // γ = 1 on 16 mixed prompts overloads some expert
  for (const RequestResult& r : got) EXPECT_TRUE(r.finished);
}

}  // namespace
}  // namespace moescope::batching
