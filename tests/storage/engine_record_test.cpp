// A real recording: the engine generates with offloading on while the trace observer records
// behind the expert store. The trace must hold tokens x MoE layers x k routing rows, the engine
// recorder's routing, the store's live counters, and a replay must reproduce them.
#include <gtest/gtest.h>

#include "engine/model/generator.h"
#include "engine/model/model.h"
#include "engine/model/routing_trace_recorder.h"
#include "engine/offload/expert_store.h"
#include "engine/tokenizer/tokenizer.h"
#include "engine/tokenizer/vocab.h"
#include "storage/run_info.h"
#include "storage/sqlite_db.h"
#include "storage/store_recording.h"
#include "storage/token_kind.h"
#include "storage/trace_reader.h"
#include "storage/trace_replay.h"
#include "tests/storage/storage_test_util.h"

namespace moescope::storage {
namespace {

std::filesystem::path reference_model(const std::string& name) {
  return std::filesystem::path(MOESCOPE_SHARED_DIR) / "reference" / "models" / (name + ".gguf");
}

PolicyDescription reader_free_description(const policy::CacheCapacity& capacity,
                                          const offload::OffloadConfig& config) {
  PolicyDescription d;
  d.spec = config.policy;
  d.prefetcher = config.prefetcher;
  d.capacity = capacity;
  d.timing.link = config.link;
  return d;
}

TEST(StorageEngine, RecordsAGenerationBehindTheExpertStore) {
  ModelOptions model_options;
  model_options.n_threads = 2;
  auto model = Model::load(reference_model("llama-moe-q8_0"), model_options);
  auto tokenizer = tokenizer::Tokenizer::from_gguf(model->file());

  offload::OffloadConfig config;
  config.budget = policy::Budget::slots(8);
  config.policy = "lru";
  config.prefetcher = "same-prev";
  config.link = policy::LinkModel::preset("nvme");  // loads take time: stall depends on compute
  // Live comparison: shadows on the same stream, an oracle among them.
  config.compare = policy::parse_shadow_specs("fifo,lru-global,belady", config.prefetcher);

  GenerationOptions generation;
  generation.max_new_tokens = 20;
  generation.sampling.temperature = 0;
  generation.n_batch = 3;  // several prefill calls

  const auto path = test::temp_path("engine.sqlite");
  TraceWriter writer(path);
  RunInfo info;
  info.label = "reference model";
  info.model = describe_model(*model);
  info.settings_json = settings_json(model_options, generation, &config, R"({"command":"test"})");
  info.seed = generation.sampling.seed;
  const int64_t run = writer.begin_run(info);

  RoutingTraceRecorder engine_recorder(*model, false);
  TraceObserver observer(writer);
  observer.set_next(&engine_recorder);
  auto store = offload::ExpertStore::attach(*model, config, &observer);
  observer.set_stall_clock([&] { return store->stats().stall_ns; });

  StoreRecording recording(writer, *store, config);
  // The writer's own simulation of the driving policy (timing model, not measured compute), as a
  // policy with counters; StoreRecording runs another one for the cache events only.
  PolicyDescription mirrored = reader_free_description(store->capacity(), config);
  const int32_t mirror = writer.simulate_policy(mirrored, {}, false);

  Generator generator(*model, *tokenizer);
  const std::string prompt = "Once upon a time, in a land far away";
  const std::vector<int32_t> ids = generator.tokenize_prompt(prompt);
  std::vector<std::string> pieces;
  for (int32_t id : ids) pieces.push_back(tokenizer->token_piece(id));
  writer.prompt(prompt, ids, pieces);
  const GenerationResult result = generator.generate(ids, generation, [&](const TokenEvent& e) {
    writer.generated(e);
    if (e.index % 5 == 0) recording.progress();
  });
  store->detach(*model);
  model->set_observer(nullptr);
  const policy::CacheReport decisions = store->decisions();
  const std::vector<policy::ShadowResult> shadows = store->shadow_results();
  recording.finish();
  writer.finish_run();

  TraceReader reader(path);
  const RunInfo back = reader.run_info(run);
  EXPECT_EQ(back.model.sha256, sha256_file(reference_model("llama-moe-q8_0")));
  EXPECT_EQ(back.model.sha256.size(), 64u);
  EXPECT_EQ(back.model.architecture, "llama");
  EXPECT_NE(back.model.quantization.find("Q8_0"), std::string::npos);
  EXPECT_NE(back.settings_json.find("\"policy\":\"lru\""), std::string::npos);
  EXPECT_NE(back.settings_json.find("\"n_batch\":3"), std::string::npos);
  EXPECT_TRUE(back.model.shape == routed_expert_shape(*model));

  // Routing rows = forwarded tokens x MoE layers x k.
  const auto summary = reader.runs().at(0);
  const int32_t forwarded = result.stats.n_prompt + result.stats.n_decoded;
  EXPECT_EQ(summary.n_forwarded, forwarded);
  const policy::MoeShape& shape = back.model.shape;
  EXPECT_EQ(reader.routing(run).size(),
            size_t(forwarded) * size_t(shape.n_layers()) * size_t(shape.top_k[0]));

  // The same routing the engine's own recorder saw.
  const policy::RoutingTrace engine = engine_recorder.finish();
  const policy::RoutingTrace trace = reader.routing_trace(run);
  EXPECT_EQ(trace.selected, engine.selected);
  EXPECT_EQ(trace.weights, engine.weights);
  EXPECT_EQ(trace.offsets, engine.offsets);
  EXPECT_EQ(trace.phase, engine.phase);

  // Tokens: the prompt's, then the generated ones, with the streamed text.
  const auto tokens = reader.tokens(run);
  // An end-of-generation token is not streamed, so it has no row.
  const bool eog = result.stats.stop_reason == StopReason::kEndOfGeneration;
  ASSERT_EQ(tokens.size(), ids.size() + result.tokens.size() - (eog ? 1 : 0));
  std::string text;
  for (size_t i = 0; i < tokens.size(); ++i) {
    const int32_t want = i < ids.size() ? ids[i] : result.tokens[i - ids.size()];
    EXPECT_EQ(tokens[i].token_id, want) << i;
    if (i >= ids.size()) text += tokens[i].text;
  }
  EXPECT_EQ(text, result.text);
  EXPECT_FALSE(tokens.back().forwarded);
  EXPECT_EQ(reader.forward_calls(run).size(),
            size_t((ids.size() + 2) / 3 + result.stats.n_decoded));

  // The store's live counters, as recorded and as replayed from the trace.
  EXPECT_GT(decisions.total().misses, 0);
  EXPECT_GT(decisions.total().stall_ns, 0);
  const auto policies = reader.policies(run);
  ASSERT_EQ(policies.size(), 5u);
  EXPECT_TRUE(policies[0].primary && policies[0].measured_compute);
  EXPECT_TRUE(reader.policy_report(run, recording.primary()) == decisions);
  EXPECT_TRUE(replay_recorded_policy(reader, run, recording.primary()) == decisions);
  ASSERT_EQ(shadows.size(), 3u);
  for (size_t i = 0; i < shadows.size(); ++i) {
    SCOPED_TRACE(shadows[i].policy);
    const int32_t id = recording.shadows()[i];
    EXPECT_EQ(policies[size_t(id)].spec, shadows[i].policy);
    EXPECT_TRUE(reader.policy_report(run, id) == shadows[i].report);
    EXPECT_TRUE(replay_recorded_policy(reader, run, id) == shadows[i].report);
  }
  // The writer's simulation decides exactly as the store; only modelled time differs.
  const policy::CacheReport mirrored_report = reader.policy_report(run, mirror);
  ASSERT_EQ(mirrored_report.token.size(), decisions.token.size());
  for (size_t t = 0; t < decisions.token.size(); ++t) {
    const policy::CacheCounters& a = mirrored_report.token[t];
    const policy::CacheCounters& b = decisions.token[t];
    EXPECT_EQ(a.hits, b.hits) << t;
    EXPECT_EQ(a.misses, b.misses) << t;
    EXPECT_EQ(a.bypasses, b.bypasses) << t;
    EXPECT_EQ(a.evictions, b.evictions) << t;
    EXPECT_EQ(a.prefetch_issued, b.prefetch_issued) << t;
  }

  // Cache outcomes on the routing rows agree with the counters.
  int64_t hits = 0, misses = 0;
  for (const RoutingEntry& e : reader.routing(run)) {
    hits += is_hit(e.cache);
    misses += is_miss(e.cache);
  }
  EXPECT_EQ(hits, decisions.total().hits);
  EXPECT_EQ(misses, decisions.total().misses);
  // ... and so do the cache events StoreRecording's mirror recorded.
  int64_t evictions = 0, issued = 0;
  for (const CacheEvent& e : reader.cache_events(run)) {
    evictions += e.kind == CacheEventKind::kEviction;
    issued += e.kind == CacheEventKind::kPrefetchIssued;
  }
  EXPECT_EQ(evictions, decisions.total().evictions);
  EXPECT_EQ(issued, decisions.total().prefetch_issued);
  EXPECT_GT(issued, 0);

  // Every forward call timed every layer.
  const auto timings = reader.layer_timings(run);
  EXPECT_EQ(timings.size(), reader.forward_calls(run).size() * size_t(shape.n_layers()));
  for (const LayerTiming& t : timings) {
    EXPECT_GT(t.compute_ns + t.stall_ns, 0);
    EXPECT_GE(t.stall_ns, 0);
  }
}

// The default model, offloading with the next-gate prefetcher: the trace keeps the engine's
// predictions, so a replay prefetches exactly what the live store did; and every token's kind
// (BOS, EOS, ...) is the tokenizer's.
TEST(StorageEngine, NextGateRunReplaysExactlyAndTokenKindsAreRecorded) {
  ModelOptions model_options;
  model_options.n_threads = 2;
  auto model = Model::load(
      std::filesystem::path(MOESCOPE_SOURCE_DIR) / "resources/models/moescope-default-q8_0.gguf",
      model_options);
  auto tokenizer = tokenizer::Tokenizer::from_gguf(model->file());
  const policy::MoeShape shape = routed_expert_shape(*model);

  offload::OffloadConfig config;
  config.budget = policy::Budget::slots(shape.total_experts() / 4);
  config.policy = "lru";
  config.prefetcher = "next-gate";
  config.link = policy::LinkModel::preset("nvme");
  GenerationOptions generation;
  generation.max_new_tokens = 12;
  generation.sampling.temperature = 0;

  const auto path = test::temp_path("next_gate.sqlite");
  TraceWriter writer(path);
  RunInfo info;
  info.model = describe_model(*model, false);
  const int64_t run = writer.begin_run(info);
  TraceObserver observer(writer);
  observer.enable_next_gate(*model, 1, 0);
  auto store = offload::ExpertStore::attach(*model, config, &observer);
  observer.set_stall_clock([&] { return store->stats().stall_ns; });
  StoreRecording recording(writer, *store, config);

  Generator generator(*model, *tokenizer);
  const std::string prompt = "The capital of France is";
  const std::vector<int32_t> ids = generator.tokenize_prompt(prompt);
  writer.prompt(prompt, ids, {}, token_kinds(*tokenizer, ids));
  const GenerationResult result = generator.generate(ids, generation, [&](const TokenEvent& e) {
    writer.generated(e, e.id < 0 ? TokenKind::kNotRecorded : token_kind(*tokenizer, e.id));
  });
  // The end-of-generation token is not streamed; record it as the GUI and the CLI do.
  const bool eog = result.stats.stop_reason == StopReason::kEndOfGeneration;
  if (eog) {
    writer.token(int32_t(ids.size()) + result.stats.n_generated - 1, result.tokens.back(), "",
                 token_kind(*tokenizer, result.tokens.back()));
  }
  store->detach(*model);
  model->set_observer(nullptr);
  const policy::CacheReport live = store->decisions();
  recording.finish();
  writer.finish_run();

  TraceReader reader(path);
  // The live store predicted and prefetched: the replay has something to reproduce.
  EXPECT_GT(live.phase[1].prefetch_predicted, 0);
  EXPECT_GT(live.phase[1].prefetch_issued, 0);
  const std::vector<GatePrediction> predictions = reader.gate_predictions(run);
  // One prediction per decode call and MoE layer that has a layer after it.
  EXPECT_EQ(predictions.size(), size_t(result.stats.n_decoded) * size_t(shape.n_layers() - 1));
  for (const GatePrediction& g : predictions) {
    EXPECT_GE(g.layer.value, 1);
    EXPECT_EQ(g.experts.size(), size_t(shape.top_k[size_t(g.layer.value)]));
  }
  EXPECT_TRUE(reader.policy_report(run, recording.primary()) == live);
  EXPECT_TRUE(replay_recorded_policy(reader, run, recording.primary()) == live);

  // The writer's mirror of the store, fed the same predictions, made the same decisions: the
  // routing outcomes and cache events agree with the live counters.
  int64_t hits = 0, misses = 0, issued = 0;
  for (const RoutingEntry& e : reader.routing(run)) {
    hits += is_hit(e.cache);
    misses += is_miss(e.cache);
  }
  for (const CacheEvent& e : reader.cache_events(run))
    issued += e.kind == CacheEventKind::kPrefetchIssued;
  EXPECT_EQ(hits, live.total().hits);
  EXPECT_EQ(misses, live.total().misses);
  EXPECT_EQ(issued, live.total().prefetch_issued);

  // Without the predictions the replay differs (it predicts nothing): they are what matters.
  {
    Database db(path, Database::Mode::kReadWrite);
    db.exec("DELETE FROM gate_predictions");
  }
  TraceReader without(path);
  EXPECT_EQ(replay_recorded_policy(without, run, recording.primary()).phase[1].prefetch_predicted,
            0);

  // Token kinds as the tokenizer classifies them; the prompt starts with BOS.
  const std::vector<TokenRecord> tokens = reader.tokens(run);
  ASSERT_FALSE(tokens.empty());
  const tokenizer::Vocab& vocab = tokenizer->vocab();
  ASSERT_GE(vocab.special.bos, 0);
  EXPECT_EQ(tokens[0].token_id, vocab.special.bos);
  EXPECT_EQ(tokens[0].kind, TokenKind::kBos);
  int specials = 0;
  for (const TokenRecord& t : tokens) {
    SCOPED_TRACE(t.pos);
    EXPECT_EQ(t.kind, token_kind(*tokenizer, t.token_id));
    EXPECT_NE(t.kind, TokenKind::kNotRecorded);
    specials += is_special(t.kind);
    const bool control = vocab.has_attr(t.token_id, tokenizer::kAttrControl);
    EXPECT_EQ(is_special(t.kind), control || vocab.has_attr(t.token_id, tokenizer::kAttrUnknown));
  }
  if (eog) {
    EXPECT_EQ(tokens.back().token_id, result.tokens.back());
    EXPECT_TRUE(tokens.back().kind == TokenKind::kEos || tokens.back().kind == TokenKind::kEog);
    EXPECT_GE(specials, 2);
  }
}

}  // namespace
}  // namespace moescope::storage
