#pragma once
// Recording a CLI generation into a trace (`moescope record`, `generate --trace`), the way the
// GUI's RunRecording does: the routing through a TraceObserver behind the expert store, the
// tokens as they stream, the store's driving policy and its shadows (StoreRecording).
//
// The trace is opened (or created) only once everything that can be checked up front is checked,
// so a bad flag, model or prompt never leaves a file. If the recording fails after that, a trace
// it created is removed. An existing trace keeps its runs: the failed run is deleted again when
// no token of it was committed (it would be an empty interrupted run), else it stays interrupted
// (with the reason in its summary when the file can still be written).
#include <QJsonArray>
#include <QJsonObject>
#include <QStringList>

#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/model/generator.h"
#include "engine/model/moe_observer.h"
#include "engine/offload/expert_store.h"
#include "engine/policy/cache_counters.h"
#include "engine/tokenizer/tokenizer.h"
#include "storage/store_recording.h"
#include "storage/trace_observer.h"
#include "storage/trace_writer.h"

namespace moescope::cli {

// Forwards routing events to an observer chosen later: the expert store is attached (and its
// flags checked) before the trace exists, then the recording plugs in behind it.
class ObserverRelay final : public MoeObserver {
 public:
  void set_target(MoeObserver* target) { target_ = target; }
  void on_forward_begin(TokenPos first, int n_tokens) override {
    if (target_ != nullptr) target_->on_forward_begin(first, n_tokens);
  }
  void on_routing(const MoeRoutingEvent& event) override {
    if (target_ != nullptr) target_->on_routing(event);
  }
  void on_forward_end() override {
    if (target_ != nullptr) target_->on_forward_end();
  }

 private:
  MoeObserver* target_ = nullptr;
};

// Throws moescope::Error (exit code 1) when `path` cannot become a trace: its directory does not
// exist, or it is a directory. Checked before the model loads so that the error comes at once.
void check_trace_destination(const std::filesystem::path& path);

class CliRecording {
 public:
  // Opens or creates the trace and begins a run described by `info`, with the prompt's tokens
  // (their kinds from `tok`). `model` (which must outlive the recording) makes the next-gate
  // predictions of a store whose prefetcher is next-gate. Throws moescope::Error; a file it
  // created is removed again.
  CliRecording(const std::filesystem::path& path, storage::RunInfo info, bool router_logits,
               std::string_view prompt, std::span<const int32_t> ids,
               std::span<const std::string> pieces, Model& model, const tokenizer::Tokenizer& tok);
  // Unfinished (an exception): the run is aborted, and a trace this recording created removed.
  ~CliRecording();
  CliRecording(const CliRecording&) = delete;
  CliRecording& operator=(const CliRecording&) = delete;

  // What the expert store's downstream observer (an ObserverRelay) should forward to.
  MoeObserver* observer() { return observer_.get(); }
  // Records the store's driving policy and its shadows; call once, before generating.
  void attach_store(const offload::ExpertStore& store, const offload::OffloadConfig& config);
  // Commits the run's row with its prompt, settings and policies (attach_store first), before
  // generation starts: a run killed at any later moment keeps them. Until then nothing of the
  // run is in the file.
  void start();
  // A streamed token; now and then also the store's counters so far (between forward calls).
  void token(const TokenEvent& event);
  // Completes the run: every policy's final counters, then the summary (a JSON object).
  void finish(std::string summary_json);

  int64_t run_id() const { return run_; }
  const std::filesystem::path& path() const { return path_; }
  int32_t primary_policy() const;
  const std::vector<int32_t>& shadow_policies() const;

 private:
  void discard() noexcept;

  std::filesystem::path path_;
  Model& model_;
  const tokenizer::Tokenizer& tok_;
  bool created_ = false;  // the file did not exist before
  bool finished_ = false;
  bool started_ = false;
  int64_t run_ = 0;
  std::unique_ptr<storage::TraceWriter> writer_;
  std::unique_ptr<storage::TraceObserver> observer_;
  std::unique_ptr<storage::StoreRecording> store_recording_;
  int64_t last_progress_ns_ = 0;
};

// What a finished recording reports, read back from the trace (so it is what the file holds),
// with the store's live counters of each policy.
struct RecordedRun {
  int64_t run = 0;
  std::string path;
  int64_t routing_entries = 0;
  int32_t forwarded = 0;
  QJsonArray policies;  // {"id" in the trace, "role", "spec", "prefetcher", "live"}, primary first
};
RecordedRun describe_recording(const CliRecording& recording, const offload::ExpertStore& store);

// The generate command (generate_command.cpp); record = true is `moescope record`: --trace
// required, the rest identical.
int run_generation_command(const QStringList& args, bool record);

// Every CacheCounters field by name (hit_rate added).
QJsonObject cache_counters_json(const policy::CacheCounters& counters);
// {"prefill", "decode", "total": counters, "end_ns", "layers": {"prefill": [...], "decode":
// [...]}}.
QJsonObject cache_report_json(const policy::CacheReport& report);

}  // namespace moescope::cli
