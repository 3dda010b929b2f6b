#pragma once
// Records runs into a trace file without slowing the forward pass: producers (the observer on the
// forward thread, the generator's token callback, cache hooks on any thread) only copy their data
// into a bounded queue; one writer thread drains it into SQLite with prepared statements, batched
// in transactions committed at least every flush_interval (WAL, synchronous=NORMAL: a killed
// process loses at most the uncommitted interval, and the file always opens). A run's row says
// "interrupted" until finish_run() marks it complete.
//
// One run is recorded at a time; a file can hold many runs. Producer calls throw moescope::Error
// once the writer thread has failed (disk full, ...), naming the problem. cache_events and the
// policy counter calls may come from any thread.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/policy/cache_counters.h"
#include "engine/policy/policy_factory.h"
#include "storage/trace_types.h"

namespace moescope {
struct TokenEvent;
}

namespace moescope::storage {

struct WriterOptions {
  // Longest time recorded data may wait before it is committed (what a SIGKILL can lose).
  std::chrono::milliseconds flush_interval{250};
  // How often the writer thread looks at the queue when nobody wakes it: producers of bulk data
  // (routing, tokens, events) do not, so recording costs the forward pass no context switches.
  std::chrono::milliseconds poll_interval{40};
  // Producers block (backpressure, counted in WriterStats::blocked_ns) beyond this much queued.
  size_t max_queue_bytes = size_t(64) << 20;
  // Niceness of the writer thread (Linux): the forward pass's threads win when both want a core,
  // and the writer catches up in the gaps. Large enough a share to keep up (it needs a few % of
  // one core) and to commit in time.
  int writer_nice = 10;
  bool layer_timings = true;   // one row per forward call
  bool router_logits = false;  // every token's full router logits (router entropy, probs)
};

struct WriterStats {
  int64_t commits = 0;
  int64_t committed_tokens = 0;  // forwarded tokens of the current run that are committed
  int64_t rows = 0;              // rows inserted so far
  int64_t queued_bytes = 0;
  int64_t max_queued_bytes = 0;
  int64_t blocked_ns = 0;  // producers waited for queue space
  int64_t busy_ns = 0;     // the writer thread's time spent working (wall clock)
  int64_t cpu_ns = 0;      // the writer thread's CPU time
};

class TraceWriter {
 public:
  // Opens (or creates) the trace and starts the writer thread. An existing trace gets new runs
  // appended; an older schema is migrated, a newer one refused. Throws moescope::Error.
  explicit TraceWriter(const std::filesystem::path& path, WriterOptions options = {});
  // Drains the queue and stops. A run that was not finished stays "interrupted".
  ~TraceWriter();
  TraceWriter(const TraceWriter&) = delete;
  TraceWriter& operator=(const TraceWriter&) = delete;

  // Starts a run and returns its id once its row (status interrupted) is committed. With
  // hold_until_flush the row is not committed on its own: it returns as soon as the id is known,
  // and nothing is committed until the next flush() (or finish/abort), so that the run's row,
  // its prompt and its policies become durable together (a process killed before that leaves
  // no run rather than a run without its prompt).
  int64_t begin_run(RunInfo info, bool hold_until_flush = false);
  // Nanoseconds since the current run began (the time base of every *_ns field).
  int64_t now_ns() const;
  const policy::MoeShape& shape() const { return shape_; }
  const WriterOptions& options() const { return options_; }

  // Prompt text and its tokens, at the next prompt positions (prompts follow each other). kinds:
  // [ids] each token's kind (storage/token_kind.h), or empty when not known.
  void prompt(std::string_view text, std::span<const int32_t> ids,
              std::span<const std::string> pieces = {}, std::span<const TokenKind> kinds = {});
  // The id, visible text and kind of position `pos` (id -1 appends `text` to what pos has).
  // request: the request of a token that is never forwarded (a batched run's last sampled
  // tokens); -1: the last forwarded token's. A forwarded token's request is its forward record's.
  void token(int32_t pos, int32_t id, std::string_view text,
             TokenKind kind = TokenKind::kNotRecorded, int32_t request = -1);
  // Describes a request of the run (an imported run's response or sequence). A recorded run has
  // request 0 without asking; its prompt text is the prompts' text.
  void request(RequestRecord request);
  // Expert counts of one step, for a run begun with RoutingDetail::kCounts (no forward records):
  // counts[shape().key_index(l, e)]. They also make the run's expert_stats (booked as prefill:
  // such dumps do not tell the phases apart).
  void step_expert_counts(StepExpertCounts counts);
  // A generated token as the generator streams it: position = prompt tokens + event.index.
  void generated(const TokenEvent& event, TokenKind kind = TokenKind::kNotRecorded);
  // One forward call (TraceObserver sends these), with the next-gate predictions made in it.
  void forward(ForwardRecord&& record);
  // Whether the current run's forward records carry next-gate predictions
  // (TraceObserver::enable_next_gate says so): simulated next-gate prefetchers then use them.
  void set_records_gate_predictions(bool on) { gate_predictions_ = on; }
  bool records_gate_predictions() const { return gate_predictions_; }
  // Events of the primary cache; any thread. Access kinds set the outcome of the routing entry
  // (pos, layer, expert), before or after it arrives.
  void cache_events(std::span<const CacheEvent> events);

  // A policy whose counters the caller supplies (policy_tokens / policy_report). Returns its id.
  int32_t add_policy(PolicyDescription policy);
  // A policy the writer thread simulates itself on the recorded routing (the access stream a live
  // cache sees: one step per forward call and MoE layer), with the timing model. With
  // cache_events its decisions are recorded as cache events and routing outcomes: for a mirror
  // of the live cache's policy they are the live cache's hits, misses, evictions and prefetches
  // (decisions do not depend on time; late flags and waits are modelled). Without counters it is
  // such a mirror only: no policy row, no counters, and the return value is -1.
  // Oracles need inputs.future; inputs.history must outlive the run.
  int32_t simulate_policy(PolicyDescription policy, const policy::PolicyInputs& inputs = {},
                          bool cache_events = false, bool counters = true);
  // Per-token counters of a policy, positions first_pos.. (final values).
  void policy_tokens(int32_t policy, int32_t first_pos,
                     std::span<const policy::CacheCounters> counters);
  // A policy's report: writes the token counters not written yet (all but the last token unless
  // final); with final also the per-phase and per-layer counters and the end time.
  void policy_report(int32_t policy, const policy::CacheReport& report, bool final);

  // The live cache's measured layer compute, [tokens][MoE layers] from position 0 (what
  // ExpertStore::compute_times() returns): stores the whole tokens not stored yet. Call between
  // forward calls and before finish_run; replays of measured_compute policies read it.
  void cache_compute_times(std::span<const int64_t> compute_ns);

  // Marks the run complete: writes what is pending, the aggregate tables and the summary (a JSON
  // object; the writer adds its own counts). Blocks until committed.
  void finish_run(std::string summary_json = "{}");
  // Ends the run without completing it (the generation failed or was abandoned): what was
  // recorded is committed, the run stays "interrupted", and `reason` goes into its summary.
  void abort_run(std::string_view reason);
  // Blocks until everything queued so far is committed.
  void flush();

  WriterStats stats() const;
  const std::filesystem::path& path() const { return path_; }
  bool recording() const { return run_ != 0; }
  int64_t run_id() const { return run_; }

 private:
  class Impl;
  void require_run(const char* what) const;

  std::filesystem::path path_;
  WriterOptions options_;
  policy::MoeShape shape_;
  int32_t k_max_ = 1;
  // Producer-side state: begin_run, prompt, generated, policies and finish_run come from one
  // controlling thread; forward from the forward pass's thread, between begin and finish.
  std::atomic<int64_t> run_{0};
  int32_t prompt_tokens_ = 0;
  int32_t prompt_count_ = 0;
  int32_t policy_count_ = 0;
  int32_t next_pos_ = 0;
  bool gate_predictions_ = false;
  std::mutex policy_mu_;
  std::vector<int64_t> policy_written_;  // [policy] token counters sent by policy_report
  int64_t compute_sent_ = 0;             // tokens sent by cache_compute_times
  std::chrono::steady_clock::time_point epoch_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace moescope::storage
