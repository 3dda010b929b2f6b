#pragma once
// The session pipeline: one generation from prompt to trace, the same for every front end. The
// CLI (`generate`, `record`) and the GUI's engine thread (views/session/generation_job) each turn
// their flags or settings into a SessionConfig and a GenerationRequest, drive this class, and
// only present what it streams (the GUI adds its thread and signals). The steps, in order:
//
//   1. tokenize and check the request's prompt (empty, longer than the context): nothing exists
//      yet, so a bad prompt leaves no file;
//   2. attach the expert store or the lossy gating to the model
//   (engine/offload/offload_attachment);
//      the listener's routing observer behind it;
//   3. open the trace and begin the run (trace_recording.h): the trace observer goes between the
//      store and the listener's observer, the store's policy and shadows (or the simulated
//      policies) are registered, next-gate predictions recorded when a recorded prefetcher needs
//      them, and the run's row committed;
//   4. generate, streaming each token to the recording and the listener; cancellation through the
//      flag, checked before every token;
//   5. record the end-of-generation token the generator does not stream, and complete the run
//      with the generation's statistics as its summary.
//
// Batching (#12) plugs in at step 4: a run(std::span<const GenerationRequest>) that checks every
// prompt (1), attaches and records once (2, 3), and lets the batched engine generate, naming each
// request in the listener's events; the steps are private member functions for that reason.
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/model/model.h"
#include "engine/offload/lossy_gating.h"
#include "engine/offload/offload_attachment.h"
#include "engine/offload/offload_config.h"
#include "engine/tokenizer/tokenizer.h"
#include "storage/session/generation_request.h"
#include "storage/session/session_listener.h"
#include "storage/trace_types.h"

namespace moescope::storage {

class TraceRecording;

// Where and how a session records; the front end describes the run (label, model, settings).
struct RecordingConfig {
  std::filesystem::path trace;  // created, or a run appended
  RunInfo info;
  bool router_logits = false;  // every token's full router logits (router entropy, MRS replay)
  // Without an expert store: the policies the writer simulates on the recorded routing; the
  // primary one's decisions become the run's cache events.
  std::vector<PolicyDescription> simulated;
};

struct SessionConfig {
  // The real expert store (its lossy variants in config.lossy); none: experts stay mapped.
  std::optional<offload::OffloadConfig> offload;
  // Lossy gating without a store (adaptive top-k needs none); ignored with a store.
  offload::LossyOptions lossy;
  std::optional<RecordingConfig> recording;  // none: nothing is recorded
};

// Where a session's run went: the run's id in the trace and the trace's ids of its policies.
struct SessionRecording {
  int64_t run = 0;
  std::filesystem::path trace;
  int32_t primary_policy = -1;  // -1: no cache was recorded
  std::vector<int32_t> shadow_policies;
};

struct SessionResult {
  RequestResult request;
  std::optional<SessionRecording> recording;
};

// The run's summary in the trace: the generation's statistics as one JSON object (the writer adds
// its own counts). The CLI's --json prints the same keys.
std::string generation_summary_json(const GenerationStats& stats);

class GenerationSession {
 public:
  // `model` and `tok` must outlive the session; the session runs the model on the calling thread.
  GenerationSession(Model& model, const tokenizer::Tokenizer& tok, SessionConfig config);
  // Takes the store or lossy gating off the model again.
  ~GenerationSession();
  GenerationSession(const GenerationSession&) = delete;
  GenerationSession& operator=(const GenerationSession&) = delete;

  // Runs one request from prompt to completed run (the steps above). `cancel` (may be null) is
  // checked before every token; a cancelled run still completes its recording. Throws
  // moescope::Error: before step 3 nothing is left behind; later a trace the session created is
  // removed, a run it appended deleted again or left interrupted (trace_recording.h).
  SessionResult run(const GenerationRequest& request, SessionListener& listener,
                    const std::atomic<bool>* cancel = nullptr);

  // After run(): what was attached (the store's counters, the lossy counters), until the session
  // goes or runs again. Null before the first run.
  const offload::OffloadAttachment* attachment() const { return attachment_.get(); }
  const offload::ExpertStore* store() const { return attachment_ ? attachment_->store() : nullptr; }
  const SessionConfig& config() const { return config_; }

 private:
  // Forwards routing events to an observer chosen later: the store is attached (step 2) before
  // the trace exists (step 3), then the recording plugs in behind it.
  class ObserverRelay final : public MoeObserver {
   public:
    void set_target(MoeObserver* target) { target_ = target; }
    void on_forward_begin(TokenPos first, int n_tokens) override;
    void on_routing(const MoeRoutingEvent& event) override;
    void on_forward_end() override;

   private:
    MoeObserver* target_ = nullptr;
  };

  PromptText tokenize(const GenerationRequest& request) const;  // step 1
  void attach(SessionListener& listener);                       // step 2
  std::unique_ptr<TraceRecording> open_recording(const GenerationRequest& request,
                                                 const PromptText& prompt,
                                                 SessionListener& listener);  // step 3
  GenerationResult generate(const GenerationRequest& request, const PromptText& prompt,
                            TraceRecording* recording, SessionListener& listener,
                            const std::atomic<bool>* cancel);  // steps 4, 5

  Model& model_;
  const tokenizer::Tokenizer& tok_;
  SessionConfig config_;
  ObserverRelay relay_;  // declared before the attachment: the store forwards to it until detached
  std::unique_ptr<offload::OffloadAttachment> attachment_;
};

}  // namespace moescope::storage
