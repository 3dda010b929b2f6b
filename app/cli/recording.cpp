#include "app/cli/recording.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include "engine/common/error.h"
#include "engine/policy/prefetcher.h"
#include "storage/run_deletion.h"
#include "storage/token_kind.h"
#include "storage/trace_reader.h"

namespace moescope::cli {

namespace fs = std::filesystem;

void check_trace_destination(const fs::path& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) fail("{}: is a directory, not a trace file", path.string());
  fs::path dir = path.parent_path();
  if (dir.empty()) dir = ".";
  if (!fs::is_directory(dir, ec)) {
    fail("cannot create trace {}: directory {} does not exist", path.string(), dir.string());
  }
}

namespace {

// Creates `path` as an empty file when nothing is there (O_EXCL: of several processes, exactly one
// does). Returns whether this process created it; only such a file may be removed again.
bool create_exclusively(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd >= 0) {
    ::close(fd);
    return true;
  }
  if (errno == EEXIST) return false;
  fail("cannot create trace {}: {}", path.string(), std::strerror(errno));
}

}  // namespace

CliRecording::CliRecording(const fs::path& path, storage::RunInfo info, bool router_logits,
                           std::string_view prompt, std::span<const int32_t> ids,
                           std::span<const std::string> pieces, Model& model,
                           const tokenizer::Tokenizer& tok)
    : path_(path), model_(model), tok_(tok) {
  created_ = create_exclusively(path_);
  try {
    storage::WriterOptions options;
    options.router_logits = router_logits;
    writer_ = std::make_unique<storage::TraceWriter>(path_, options);
    // Held: the run's row becomes durable only with its prompt and policies (start()).
    run_ = writer_->begin_run(std::move(info), /*hold_until_flush=*/true);
    writer_->prompt(prompt, ids, pieces, storage::token_kinds(tok_, ids));
    observer_ = std::make_unique<storage::TraceObserver>(*writer_);
  } catch (...) {
    discard();
    throw;
  }
}

CliRecording::~CliRecording() {
  if (!finished_) discard();
}

void CliRecording::discard() noexcept {
  store_recording_.reset();
  observer_.reset();
  if (writer_ && writer_->recording()) {
    try {
      writer_->abort_run("the recording failed");
    } catch (...) {  // the writer already failed: the run stays interrupted anyway
    }
  }
  try {
    writer_.reset();
  } catch (...) {
  }
  // A file this process created goes again, unless another process has put a run into it since.
  if (created_) {
    try {
      if (storage::remove_trace_of_run(path_, run_)) return;
    } catch (...) {  // it cannot be read or locked: it stays
    }
  }
  // Nothing forwarded was committed: the run would only be an empty interrupted one.
  if (run_ > 0) {
    try {
      storage::delete_empty_run(path_, run_);
    } catch (...) {  // the file cannot be written: the run stays, interrupted
    }
  }
}

void CliRecording::attach_store(const offload::ExpertStore& store,
                                const offload::OffloadConfig& config) {
  const offload::ExpertStore* s = &store;
  observer_->set_stall_clock([s] { return s->stats().stall_ns; });
  // The router probes the store's prefetcher asks for, made the same way: a replay prefetches
  // what it prefetched.
  if (const auto probe = store.prediction_inputs().router_probe) {
    observer_->enable_next_gate(model_, probe->distance, probe->k_prime);
  }
  store_recording_ = std::make_unique<storage::StoreRecording>(*writer_, store, config);
}

void CliRecording::start() {
  if (started_) return;
  writer_->flush();
  started_ = true;
}

void CliRecording::token(const TokenEvent& event) {
  start();  // in case the caller did not
  writer_->generated(
      event, event.id < 0 ? storage::TokenKind::kNotRecorded : storage::token_kind(tok_, event.id));
  // StoreRecording::progress is O(tokens so far): about once a second keeps it negligible.
  const int64_t now = writer_->now_ns();
  if (store_recording_ && now - last_progress_ns_ >= 1'000'000'000) {
    last_progress_ns_ = now;
    store_recording_->progress();
  }
}

void CliRecording::finish(std::string summary_json) {
  if (store_recording_) store_recording_->finish();
  writer_->finish_run(std::move(summary_json));
  finished_ = true;
  observer_.reset();
  writer_.reset();  // closes the file: WAL checkpointed, one self-contained file again
}

int32_t CliRecording::primary_policy() const {
  return store_recording_ ? store_recording_->primary() : -1;
}

const std::vector<int32_t>& CliRecording::shadow_policies() const {
  static const std::vector<int32_t> kNone;
  return store_recording_ ? store_recording_->shadows() : kNone;
}

RecordedRun describe_recording(const CliRecording& recording, const offload::ExpertStore& store) {
  RecordedRun out;
  out.run = recording.run_id();
  out.path = recording.path().string();
  storage::TraceReader reader(recording.path());
  for (const storage::LayerAggregate& l : reader.layer_aggregates(out.run))
    out.routing_entries += l.activations;
  for (const storage::RunSummary& r : reader.runs()) {
    if (r.id == out.run) out.forwarded = r.n_forwarded;
  }
  auto add = [&](int32_t id, const char* role, const std::string& spec,
                 const std::string& prefetcher, const policy::CacheReport& live) {
    QJsonObject p{{"id", id},
                  {"role", role},
                  {"spec", QString::fromStdString(spec)},
                  {"prefetcher", QString::fromStdString(prefetcher)},
                  {"live", cache_report_json(live)}};
    out.policies.append(p);
  };
  const policy::CacheReport live = store.decisions();
  add(recording.primary_policy(), "primary", live.policy, live.prefetcher, live);
  const std::vector<policy::ShadowResult> shadows = store.shadow_results();
  for (size_t i = 0; i < shadows.size() && i < recording.shadow_policies().size(); ++i) {
    add(recording.shadow_policies()[i], shadows[i].oracle ? "oracle" : "shadow", shadows[i].policy,
        shadows[i].prefetcher, shadows[i].report);
  }
  return out;
}

QJsonObject cache_counters_json(const policy::CacheCounters& c) {
  return QJsonObject{{"accesses", qint64(c.accesses)},
                     {"hits", qint64(c.hits)},
                     {"misses", qint64(c.misses)},
                     {"bypasses", qint64(c.bypasses)},
                     {"evictions", qint64(c.evictions)},
                     {"bytes_loaded", qint64(c.bytes_loaded)},
                     {"prefetch_predicted", qint64(c.prefetch_predicted)},
                     {"prefetch_correct", qint64(c.prefetch_correct)},
                     {"prefetch_routed", qint64(c.prefetch_routed)},
                     {"prefetch_issued", qint64(c.prefetch_issued)},
                     {"prefetch_bytes", qint64(c.prefetch_bytes)},
                     {"prefetch_used", qint64(c.prefetch_used)},
                     {"prefetch_late", qint64(c.prefetch_late)},
                     {"prefetch_wasted", qint64(c.prefetch_wasted)},
                     {"prefetch_wasted_bytes", qint64(c.prefetch_wasted_bytes)},
                     {"stall_ns", qint64(c.stall_ns)},
                     {"hit_rate", c.hit_rate()}};
}

QJsonObject cache_report_json(const policy::CacheReport& report) {
  auto layers = [&](int phase) {
    QJsonArray a;
    for (const policy::CacheCounters& c : report.layer[size_t(phase)])
      a.append(cache_counters_json(c));
    return a;
  };
  return QJsonObject{{"prefill", cache_counters_json(report.phase[0])},
                     {"decode", cache_counters_json(report.phase[1])},
                     {"total", cache_counters_json(report.total())},
                     {"end_ns", qint64(report.end_ns)},
                     {"layers", QJsonObject{{"prefill", layers(0)}, {"decode", layers(1)}}}};
}

}  // namespace moescope::cli
