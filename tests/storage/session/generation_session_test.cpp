// The session pipeline on its own (storage/session/generation_session.h), with the built-in
// model: what the listener hears is what the result and the trace hold; a bad prompt leaves no
// file; a cancelled run still completes its recording; a failure mid-run removes the trace it
// created; the model is given back as it was.
#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <atomic>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/common/error.h"
#include "engine/model/model.h"
#include "engine/model/routing_trace_recorder.h"
#include "engine/tokenizer/tokenizer.h"
#include "storage/run_info.h"
#include "storage/session/generation_session.h"
#include "storage/session/trace_recording.h"
#include "storage/trace_reader.h"
#include "tests/storage/session/session_fixture.h"

namespace moescope::storage {
namespace {

namespace fs = std::filesystem;

// Collects what the session streams.
class Collector : public SessionListener {
 public:
  void on_store(const offload::ExpertStore&) override { ++stores; }
  void on_prompt(int64_t request, const PromptText& prompt) override {
    prompt_request = request;
    prompt_ids = prompt.ids;
  }
  void on_token(int64_t request, const TokenEvent& event) override {
    EXPECT_EQ(request, prompt_request);
    ids.push_back(event.id);
    texts.emplace_back(event.text);
    if (cancel_after > 0 && int(ids.size()) == cancel_after) cancel.store(true);
    if (throw_after > 0 && int(ids.size()) == throw_after) throw Error("the listener failed");
  }

  int stores = 0;
  int64_t prompt_request = -1;
  std::vector<int32_t> prompt_ids;
  std::vector<int32_t> ids;
  std::vector<std::string> texts;
  int cancel_after = 0, throw_after = 0;
  std::atomic<bool> cancel{false};
};

class GenerationSessionTest : public testing::SessionFixture<64> {
 protected:
  // Offloading with 2 slots per MoE layer, recorded into `trace`.
  static SessionConfig recorded(const fs::path& trace) {
    SessionConfig config;
    offload::OffloadConfig offload;
    offload.budget = policy::Budget::slots(2 * uint64_t(routed_shape().n_layers()));
    offload.compare.push_back({"fifo", "none"});
    config.offload = offload;
    RecordingConfig rc;
    rc.trace = trace;
    rc.info.label = "session test";
    rc.info.model = describe_model(*model_, /*with_hash=*/false);
    config.recording = rc;
    return config;
  }
  static policy::MoeShape routed_shape();

  static GenerationRequest request(std::string prompt, int n) {
    GenerationRequest r;
    r.id = 7;
    r.prompt = std::move(prompt);
    r.options.max_new_tokens = n;
    r.options.sampling.temperature = 0;
    return r;
  }
};

policy::MoeShape GenerationSessionTest::routed_shape() {
  return routed_expert_shape(*model_);
}

TEST_F(GenerationSessionTest, TheListenerHearsWhatTheResultAndTheTraceHold) {
  const fs::path trace = dir_ / "t.sqlite";
  Collector listener;
  SessionResult result;
  {
    GenerationSession session(*model_, *tok_, recorded(trace));
    result = session.run(request("Once upon a time", 6), listener);
    ASSERT_NE(session.store(), nullptr);
    EXPECT_GT(session.store()->decisions().total().accesses, 0);
  }
  EXPECT_EQ(model_->observer(), nullptr);  // given back as it was
  EXPECT_EQ(listener.stores, 1);
  EXPECT_EQ(listener.prompt_request, 7);
  EXPECT_EQ(result.request.id, 7);
  EXPECT_EQ(listener.prompt_ids, result.request.prompt.ids);
  EXPECT_EQ(result.request.generation.tokens.size(), 6u);
  // The streamed tokens are the generated ones (a -1 flush of held-back text may follow).
  std::vector<int32_t> streamed;
  std::string text;
  for (size_t i = 0; i < listener.ids.size(); ++i) {
    if (listener.ids[i] >= 0) streamed.push_back(listener.ids[i]);
    text += listener.texts[i];
  }
  EXPECT_EQ(streamed, result.request.generation.tokens);
  EXPECT_EQ(text, result.request.generation.text);

  ASSERT_TRUE(result.recording);
  EXPECT_EQ(result.recording->trace, trace);
  EXPECT_EQ(result.recording->shadow_policies.size(), 1u);
  TraceReader reader(trace);
  const RunInfo info = reader.run_info(result.recording->run);
  EXPECT_EQ(info.status, RunStatus::kComplete);
  EXPECT_EQ(info.label, "session test");
  const auto summary = nlohmann::json::parse(info.summary_json);
  EXPECT_EQ(summary["generated_tokens"], 6);
  EXPECT_EQ(summary["stopped_by_user"], false);
  const auto tokens = reader.tokens(result.recording->run);
  const size_t n_prompt = result.request.prompt.ids.size();
  ASSERT_EQ(tokens.size(), n_prompt + 6);
  std::string recorded_text;
  for (size_t i = 0; i < tokens.size(); ++i) {
    const int32_t expected = i < n_prompt ? result.request.prompt.ids[i] : streamed[i - n_prompt];
    EXPECT_EQ(tokens[i].token_id, expected) << i;
    if (i >= n_prompt) recorded_text += tokens[i].text;
  }
  EXPECT_EQ(recorded_text, result.request.generation.text);
  // The store's own counters are the recorded primary policy's.
  const auto policies = reader.policies(result.recording->run);
  ASSERT_EQ(policies.size(), 2u);
  EXPECT_EQ(policies[0].id, result.recording->primary_policy);
}

TEST_F(GenerationSessionTest, ABadPromptLeavesNoTrace) {
  const fs::path trace = dir_ / "bad.sqlite";
  Collector listener;
  GenerationSession session(*model_, *tok_, recorded(trace));
  std::string too_long;
  for (int i = 0; i < 200; ++i) too_long += " word";
  try {
    session.run(request(too_long, 4), listener);
    FAIL() << "a prompt longer than the context ran";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("but the context holds 64"), std::string::npos)
        << e.what();
  }
  EXPECT_FALSE(fs::exists(trace));
  EXPECT_EQ(listener.stores, 0);  // nothing was attached either
  EXPECT_TRUE(listener.prompt_ids.empty());
}

TEST_F(GenerationSessionTest, ACancelledRunCompletesItsRecording) {
  const fs::path trace = dir_ / "cancel.sqlite";
  Collector listener;
  listener.cancel_after = 2;
  GenerationSession session(*model_, *tok_, recorded(trace));
  const SessionResult result =
      session.run(request("Once upon a time", 20), listener, &listener.cancel);
  EXPECT_TRUE(result.request.cancelled());
  EXPECT_EQ(result.request.generation.tokens.size(), 2u);
  ASSERT_TRUE(result.recording);
  TraceReader reader(trace);
  const RunInfo info = reader.run_info(result.recording->run);
  EXPECT_EQ(info.status, RunStatus::kComplete);
  EXPECT_EQ(nlohmann::json::parse(info.summary_json)["stopped_by_user"], true);
}

TEST_F(GenerationSessionTest, AFailureMidRunRemovesTheTraceItCreated) {
  const fs::path trace = dir_ / "fail.sqlite";
  Collector listener;
  listener.throw_after = 2;
  {
    GenerationSession session(*model_, *tok_, recorded(trace));
    EXPECT_THROW(session.run(request("Once upon a time", 8), listener), Error);
    EXPECT_EQ(listener.ids.size(), 2u);  // it failed mid-run, with the trace open
  }
  EXPECT_FALSE(fs::exists(trace));
  EXPECT_EQ(model_->observer(), nullptr);
}

TEST_F(GenerationSessionTest, WithoutARecordingNothingIsWritten) {
  Collector listener;
  SessionConfig config;  // resident experts, no trace
  GenerationSession session(*model_, *tok_, config);
  const SessionResult result = session.run(request("Once upon a time", 3), listener);
  EXPECT_FALSE(result.recording);
  EXPECT_EQ(session.store(), nullptr);
  EXPECT_EQ(result.request.generation.tokens.size(), 3u);
  EXPECT_TRUE(fs::is_empty(dir_));
}

}  // namespace
}  // namespace moescope::storage
