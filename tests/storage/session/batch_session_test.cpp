// The session pipeline's batched run (GenerationSession::run_batch) recorded into a trace, on the
// built-in model: the trace holds every request (its prompt, and its tokens in order under its
// id), one forward record per engine step, one cache access per (step, MoE layer, distinct
// expert); a replay of every recorded policy equals the live counters, with the real expert
// store (FIFO and expert-aware scheduling, a next-gate prefetcher) and with the writer's
// simulated policies; a bad request leaves no file.
#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "engine/common/error.h"
#include "engine/model/model.h"
#include "engine/model/routing_trace_recorder.h"
#include "engine/tokenizer/tokenizer.h"
#include "storage/run_info.h"
#include "storage/session/generation_session.h"
#include "storage/trace_reader.h"
#include "storage/trace_replay.h"
#include "tests/storage/session/session_fixture.h"

namespace moescope::storage {
namespace {

namespace fs = std::filesystem;

const std::vector<std::string> kPrompts = {
    "It is a truth universally acknowledged, that a single man in possession of a good fortune",
    "In the beginning God created the heaven and the earth.",
    "The hacker ethic holds that",
    "CYNIC, n. A blackguard whose faulty vision sees things as they are",
    "Here the psalmist",
    "kludge",
};

// What the listener hears, per request id.
class Collector : public SessionListener {
 public:
  void on_prompt(int64_t request, const PromptText& prompt) override {
    prompts[request] = prompt.ids;
  }
  void on_token(int64_t request, const TokenEvent& event) override {
    if (event.id >= 0) ids[request].push_back(event.id);
    text[request] += event.text;
  }
  std::map<int64_t, std::vector<int32_t>> prompts, ids;
  std::map<int64_t, std::string> text;
};

class BatchSessionTest : public testing::SessionFixture<128> {
 protected:
  static RecordingConfig recording(const fs::path& trace) {
    RecordingConfig rc;
    rc.trace = trace;
    rc.info.label = "batched";
    rc.info.model = describe_model(*model_, /*with_hash=*/false);
    rc.info.settings_json = R"({"batch": {"scheduler": "test"}})";
    return rc;
  }
  // The real store with a quarter of the experts resident, a shadow, and `prefetcher`.
  static SessionConfig offloaded(const fs::path& trace, const std::string& prefetcher) {
    SessionConfig config;
    offload::OffloadConfig offload;
    const policy::MoeShape shape = routed_expert_shape(*model_);
    offload.budget = policy::Budget::slots(uint64_t(shape.total_experts() / 4));
    offload.prefetcher = prefetcher;
    offload.compare.push_back({"lfu", "none"});
    config.offload = offload;
    config.recording = recording(trace);
    return config;
  }
  // No store: the writer simulates LRU (primary, its decisions the cache events) and FIFO.
  static SessionConfig simulated(const fs::path& trace) {
    SessionConfig config;
    config.recording = recording(trace);
    const policy::MoeShape shape = routed_expert_shape(*model_);
    PolicyDescription lru;
    lru.primary = true;
    lru.spec = "lru";
    lru.capacity = policy::CacheCapacity::uniform(shape.n_layers(), 2);
    PolicyDescription fifo = lru;
    fifo.primary = false;
    fifo.spec = "fifo";
    config.recording->simulated = {lru, fifo};
    return config;
  }
  static std::vector<GenerationRequest> requests() {
    std::vector<GenerationRequest> out;
    for (const std::string& p : kPrompts) {
      GenerationRequest r;
      r.id = 100 + int64_t(out.size());
      r.prompt = p;
      r.options.max_new_tokens = 8;
      r.options.sampling.temperature = 0;
      r.options.n_batch = 8;  // long prompts prefill in several chunks
      r.source_json = "{\"line\": " + std::to_string(out.size() + 1) + "}";
      out.push_back(std::move(r));
    }
    return out;
  }
  static BatchConfig batch(const std::string& scheduler) {
    BatchConfig b;
    b.engine.scheduler = scheduler;
    b.engine.limits.max_batch = 4;  // requests wait, join and leave
    b.engine.limits.max_tokens = 24;
    return b;
  }
};

// The trace holds the run as the engine ran it.
void expect_trace_holds(TraceReader& reader, int64_t run, const BatchSessionResult& r,
                        const std::vector<GenerationRequest>& requests, const Collector& heard) {
  const std::vector<RequestRecord> recorded = reader.requests(run);
  ASSERT_EQ(recorded.size(), requests.size());
  std::map<int32_t, std::vector<int32_t>> ids;  // request -> its tokens in position order
  int32_t forwarded = 0;
  std::set<int32_t> steps;
  for (const TokenRecord& t : reader.tokens(run)) {
    ids[t.request].push_back(t.token_id);
    forwarded += t.forwarded;
    if (t.forwarded) steps.insert(t.step);
  }
  int32_t rows = 0;
  for (const batching::StepStats& s : r.steps) rows += s.rows;
  EXPECT_EQ(forwarded, rows);
  EXPECT_EQ(steps.size(), r.steps.size());
  EXPECT_EQ(reader.forward_calls(run).size(), r.steps.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    SCOPED_TRACE("request " + std::to_string(i));
    const batching::RequestResult& q = r.requests[i];
    EXPECT_TRUE(q.finished);
    EXPECT_EQ(recorded[i].id, int32_t(i));
    EXPECT_EQ(recorded[i].prompt, requests[i].prompt);
    EXPECT_EQ(nlohmann::json::parse(recorded[i].source_json).at("line").get<int>(), int(i) + 1);
    std::vector<int32_t> expected = q.prompt;
    expected.insert(expected.end(), q.tokens.begin(), q.tokens.end());
    EXPECT_EQ(ids[int32_t(i)], expected);
    EXPECT_EQ(heard.prompts.at(requests[i].id), q.prompt);
    EXPECT_EQ(heard.ids.at(requests[i].id), q.tokens);
    EXPECT_EQ(heard.text.at(requests[i].id), q.text);
  }
  const nlohmann::json summary = nlohmann::json::parse(reader.run_info(run).summary_json);
  EXPECT_TRUE(summary.at("batched").get<bool>());
  EXPECT_EQ(summary.at("requests").size(), requests.size());
  EXPECT_EQ(summary.at("steps").get<size_t>(), r.steps.size());
}

// One access per (step, MoE layer, distinct expert of the step): the union of the batch's experts.
int64_t union_accesses(const BatchSessionResult& r) {
  int64_t n = 0;
  for (const batching::StepStats& s : r.steps)
    for (int32_t d : s.distinct_experts) n += d;
  return n;
}

TEST_F(BatchSessionTest, ABatchedTraceReplaysToTheStoresLiveCounters) {
  for (const std::string scheduler : {"fifo", "expert-aware"}) {
    for (const std::string prefetcher : {"none", "next-gate"}) {
      SCOPED_TRACE(scheduler + " " + prefetcher);
      const fs::path trace = dir_ / (scheduler + "-" + prefetcher + ".trace");
      const auto reqs = requests();
      GenerationSession session(*model_, *tok_, offloaded(trace, prefetcher));
      Collector heard;
      const BatchSessionResult r = session.run_batch(reqs, batch(scheduler), heard);
      ASSERT_TRUE(r.recording);
      const policy::CacheReport live = session.store()->decisions();
      const std::vector<policy::ShadowResult> shadows = session.store()->shadow_results();

      TraceReader reader(trace);
      const int64_t run = r.recording->run;
      expect_trace_holds(reader, run, r, reqs, heard);
      if (prefetcher == "none") {
        EXPECT_EQ(live.total().accesses, union_accesses(r));
      }
      EXPECT_GT(live.total().misses, 0);
      EXPECT_GT(live.total().bytes_loaded, 0);
      EXPECT_TRUE(reader.policy_report(run, r.recording->primary_policy) == live);
      EXPECT_TRUE(replay_recorded_policy(reader, run, r.recording->primary_policy) == live);
      ASSERT_EQ(shadows.size(), r.recording->shadow_policies.size());
      for (size_t i = 0; i < shadows.size(); ++i) {
        const int32_t id = r.recording->shadow_policies[i];
        EXPECT_TRUE(replay_recorded_policy(reader, run, id) == shadows[i].report) << i;
      }
      // The store predicts in decode only: steps of one row (the phase rule of docs/batching.md).
      bool single_rows = false;
      for (const batching::StepStats& st : r.steps) single_rows |= st.rows == 1;
      if (prefetcher == "next-gate") {
        EXPECT_EQ(!reader.gate_predictions(run).empty(), single_rows);
      }
    }
  }
}

TEST_F(BatchSessionTest, ABatchedTraceReplaysToTheSimulatedCounters) {
  for (const std::string scheduler : {"fifo", "expert-aware"}) {
    SCOPED_TRACE(scheduler);
    const fs::path trace = dir_ / (scheduler + ".trace");
    const auto reqs = requests();
    GenerationSession session(*model_, *tok_, simulated(trace));
    Collector heard;
    const BatchSessionResult r = session.run_batch(reqs, batch(scheduler), heard);
    ASSERT_TRUE(r.recording);
    EXPECT_EQ(session.store(), nullptr);
    TraceReader reader(trace);
    const int64_t run = r.recording->run;
    expect_trace_holds(reader, run, r, reqs, heard);
    const policy::CacheReport primary = reader.policy_report(run, r.recording->primary_policy);
    EXPECT_EQ(primary.total().accesses, union_accesses(r));
    EXPECT_TRUE(replay_recorded_policy(reader, run, r.recording->primary_policy) == primary);
    for (int32_t id : r.recording->shadow_policies) {
      EXPECT_TRUE(replay_recorded_policy(reader, run, id) == reader.policy_report(run, id));
    }
    // The primary's decisions are the routing outcomes.
    int64_t misses = 0;
    for (const RoutingEntry& e : reader.routing(run)) misses += is_miss(e.cache);
    EXPECT_EQ(misses, primary.total().misses);
  }
}

TEST_F(BatchSessionTest, ABadRequestLeavesNoTrace) {
  const fs::path trace = dir_ / "bad.trace";
  auto reqs = requests();
  reqs[2].prompt = std::string(2000, 'x') + " far longer than the context";
  GenerationSession session(*model_, *tok_, offloaded(trace, "none"));
  Collector heard;
  try {
    session.run_batch(reqs, batch("fifo"), heard);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("request 102: prompt has"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(trace));
  EXPECT_TRUE(heard.prompts.empty());
}

}  // namespace
}  // namespace moescope::storage
