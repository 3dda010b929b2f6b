#pragma once
// One generation recorded into a trace (the recording step of the session pipeline,
// generation_session.h): the routing through a TraceObserver behind the expert store, the tokens
// as they stream, and the cache: the store's driving policy and its shadows (StoreRecording), or
// without a store the policies the writer simulates on the recorded routing.
//
// The trace is opened (or created) only once everything that can be checked up front is checked,
// so a bad flag, model or prompt never leaves a file. If the recording fails after that, a trace
// it created is removed. An existing trace keeps its runs: the failed run is deleted again when
// no token of it was committed (it would be an empty interrupted run), else it stays interrupted
// (with the reason in its summary when the file can still be written).
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/batching/batch_engine.h"
#include "engine/model/generator.h"
#include "engine/offload/expert_store.h"
#include "engine/tokenizer/tokenizer.h"
#include "storage/store_recording.h"
#include "storage/trace_observer.h"
#include "storage/trace_writer.h"

namespace moescope::storage {

// Throws moescope::Error when `path` cannot become a trace: its directory does not exist, or it
// is a directory. Front ends check it before the model loads so that the error comes at once.
void check_trace_destination(const std::filesystem::path& path);

class TraceRecording {
 public:
  // Opens or creates the trace and begins a run described by `info`, with the prompt's tokens
  // (their kinds from `tok`, which must outlive the recording). Throws moescope::Error; a file it
  // created is removed again.
  TraceRecording(const std::filesystem::path& path, RunInfo info, bool router_logits,
                 std::string_view prompt, std::span<const int32_t> ids,
                 std::span<const std::string> pieces, const tokenizer::Tokenizer& tok);
  // A batched run (GenerationSession::run_batch): the requests come with add_request, their rows
  // with step() before each forward call, their sampled tokens with sampled().
  TraceRecording(const std::filesystem::path& path, RunInfo info, bool router_logits,
                 const tokenizer::Tokenizer& tok);
  // Unfinished (an exception): the run is aborted, and a trace this recording created removed.
  ~TraceRecording();
  TraceRecording(const TraceRecording&) = delete;
  TraceRecording& operator=(const TraceRecording&) = delete;

  // The observer to put behind the routing source (the expert store or the model).
  TraceObserver& observer() { return *observer_; }
  // Records the store's driving policy and its shadows, with the store's stall as the layers'
  // stall; call once, before generating (after TraceObserver::enable_next_gate, if at all).
  void attach_store(const offload::ExpertStore& store, const offload::OffloadConfig& config);
  // Without a store: policies the writer simulates on the recorded routing; the primary one's
  // decisions become the cache events.
  void simulate(const std::vector<PolicyDescription>& policies);
  // Commits the run's row with its prompt, settings and policies, before generation starts: a run
  // killed at any later moment keeps them. Until then nothing of the run is in the file.
  void start();
  // A streamed token; now and then also the store's counters so far (between forward calls).
  void token(const TokenEvent& event);
  // A batched run's request `id` (the engine's RequestId): its prompt text, the text each prompt
  // token makes visible, and where it came from (a JSON object).
  void add_request(int32_t id, std::string_view prompt, std::vector<std::string> pieces,
                   std::string source_json);
  // Before a batched step's forward call: its rows get the next positions (a batched run's
  // positions count forwarded rows in step order), each with its token, text and request.
  void step(std::span<const batching::StepRow> rows);
  // A batched request's sampled token (id -1: held-back text flushed at its end). It gets its
  // position when a step forwards it, or, never forwarded (a request's last token), at finish().
  void sampled(int32_t request, const TokenEvent& event);
  // Completes the run: every policy's final counters, then the summary (a JSON object). A batched
  // run's never-forwarded tokens go first, after every forwarded position, in request order.
  void finish(std::string summary_json);

  int64_t run_id() const { return run_; }
  const std::filesystem::path& path() const { return path_; }
  // The trace's ids of the primary policy (-1: none) and of the shadows, in order.
  int32_t primary_policy() const { return primary_; }
  const std::vector<int32_t>& shadow_policies() const { return shadows_; }

 private:
  void discard() noexcept;
  void open(RunInfo info, bool router_logits);
  void progress();

  // What a batched run still has to place of a request's tokens.
  struct RequestTokens {
    std::vector<std::string> prompt_pieces;
    size_t next_prompt = 0;  // prompt tokens forwarded
    int32_t pending = -1;    // sampled, not forwarded yet (-1: none)
    std::string pending_text;
    int32_t last_pos = -1;  // its last forwarded position
  };

  std::filesystem::path path_;
  const tokenizer::Tokenizer& tok_;
  bool created_ = false;  // the file did not exist before
  bool finished_ = false;
  bool started_ = false;
  int64_t run_ = 0;
  int32_t primary_ = -1;
  std::vector<int32_t> shadows_;
  std::unique_ptr<TraceWriter> writer_;
  std::unique_ptr<TraceObserver> observer_;
  std::unique_ptr<StoreRecording> store_recording_;
  int64_t last_progress_ns_ = 0;
  std::map<int32_t, RequestTokens> requests_;  // a batched run's, by id
  int32_t forwarded_ = 0;                      // a batched run's positions so far
};

}  // namespace moescope::storage
