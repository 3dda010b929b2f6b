#pragma once
// The engine thread's side of a batched run in the GUI: the session pipeline's listener
// (storage/session/session_listener.h) for one GenerationSession::run_batch. It fills a BatchRun
// as the run goes: each request's prompt and streamed text, and for every forward call (step)
// the routing counted per MoE layer (step_accumulator.h), the call's wall time and the bytes the
// expert store loaded for it. The GUI thread copies the run whenever it refreshes (at most 30
// times a second); nothing here blocks a forward call for longer than a counter update.
#include <chrono>
#include <mutex>
#include <optional>

#include "engine/model/moe_observer.h"
#include "storage/session/generation_session.h"
#include "storage/session/session_listener.h"
#include "views/batch/batch_run.h"
#include "views/batch/step_accumulator.h"

namespace moescope::views {

class BatchRecorder final : public storage::SessionListener, private MoeObserver {
 public:
  // `run` holds the requests (ids, prompts) and the scheduler; the shape is the model's.
  explicit BatchRecorder(BatchRun run);

  // storage::SessionListener (engine thread).
  MoeObserver* routing_observer() override { return this; }
  void on_store(const offload::ExpertStore& store) override { store_ = &store; }
  void on_prompt(int64_t request, const storage::PromptText& prompt) override;
  void on_token(int64_t request, const TokenEvent& event) override;

  // After run_batch returned (engine thread): each request's final state, TTFT and TPOT, and
  // each step's request count and time, as the engine measured them.
  void finish(const storage::BatchSessionResult& result, bool cancelled);

  // Any thread: a copy of the run when it changed since the last call.
  std::optional<BatchRun> take_if_changed();

 private:
  void on_forward_begin(TokenPos first, int n_tokens) override;
  void on_routing(const MoeRoutingEvent& event) override;
  void on_forward_end() override;
  int64_t store_bytes() const;
  BatchRequest* request(int64_t id);  // under mu_

  const offload::ExpertStore* store_ = nullptr;
  // The forward call in progress (engine thread only).
  StepAccumulator accumulator_;
  int64_t bytes_before_ = 0;
  std::chrono::steady_clock::time_point started_;

  std::mutex mu_;
  BatchRun run_;
  bool changed_ = true;
};

}  // namespace moescope::views
