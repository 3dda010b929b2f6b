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
// run_batch takes many requests through the same steps: it checks every prompt (1), attaches and
// records once (2, 3; a capacity-aware gating, LOSSY, goes on the model after the store), and lets
// the continuous-batching engine (engine/batching) generate (4), naming each request in the
// listener's events. Its trace run holds every request (with its id on each of its tokens), one
// forward record per engine step (one cache step per step and MoE layer over the union of the
// step's experts), and the batch settings the front end put in RunInfo::settings_json.
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "engine/batching/batch_engine.h"
#include "engine/batching/capacity_gating.h"
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

// How run_batch runs its requests.
struct BatchConfig {
  batching::BatchOptions engine;  // scheduler and step limits
  std::vector<double> arrival_s;  // [requests] seconds from the start; empty: all at once
  // LOSSY capacity-aware gating over each step's tokens; none: the exact routing. It does not
  // combine with the store's or the store-less lossy variants.
  std::optional<batching::CapacityOptions> capacity;
};

struct BatchSessionResult {
  std::vector<PromptText> prompts;                // [requests] as tokenized
  std::vector<batching::RequestResult> requests;  // [requests], the engine's ids 0, 1, ...
  std::vector<batching::StepStats> steps;
  std::vector<batching::CapacityRecord> capacity;  // with a capacity gating
  double total_ms = 0;
  std::optional<SessionRecording> recording;
};

// The run's summary in the trace: the generation's statistics as one JSON object (the writer adds
// its own counts). The CLI's --json prints the same keys.
std::string generation_summary_json(const GenerationStats& stats);
// A batched run's summary in the trace: the workload's statistics (batching::summarize) and each
// request's outcome; with a capacity gating its drop and straggler totals.
std::string batch_summary_json(const BatchSessionResult& result, int64_t n_expert);

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

  // Runs many requests together through the batched engine (the steps above; engine ids are
  // the requests' indices). `cancel` is checked before every step; a cancelled run completes its
  // recording with the requests as far as they got. Throws like run(); a bad prompt names its
  // request ("request ID: ...").
  BatchSessionResult run_batch(std::span<const GenerationRequest> requests,
                               const BatchConfig& batch, SessionListener& listener,
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

  PromptText tokenize(const GenerationRequest& request) const;                // step 1
  void attach(SessionListener& listener);                                     // step 2
  void register_cache(TraceRecording& recording, SessionListener& listener);  // step 3's cache
  std::unique_ptr<TraceRecording> open_recording(const GenerationRequest& request,
                                                 const PromptText& prompt,
                                                 SessionListener& listener);  // step 3
  std::unique_ptr<TraceRecording> open_batch_recording(
      std::span<const GenerationRequest> requests, std::span<const PromptText> prompts,
      SessionListener& listener);  // step 3, batched
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
