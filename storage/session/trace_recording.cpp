#include "storage/session/trace_recording.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>
#include <utility>

#include "engine/common/error.h"
#include "storage/run_deletion.h"
#include "storage/token_kind.h"

namespace moescope::storage {

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

TraceRecording::TraceRecording(const fs::path& path, RunInfo info, bool router_logits,
                               std::string_view prompt, std::span<const int32_t> ids,
                               std::span<const std::string> pieces, const tokenizer::Tokenizer& tok)
    : path_(path), tok_(tok) {
  open(std::move(info), router_logits);
  try {
    writer_->prompt(prompt, ids, pieces, token_kinds(tok_, ids));
  } catch (...) {
    discard();
    throw;
  }
}

TraceRecording::TraceRecording(const fs::path& path, RunInfo info, bool router_logits,
                               const tokenizer::Tokenizer& tok)
    : path_(path), tok_(tok) {
  open(std::move(info), router_logits);
}

void TraceRecording::open(RunInfo info, bool router_logits) {
  created_ = create_exclusively(path_);
  try {
    WriterOptions options;
    options.router_logits = router_logits;
    writer_ = std::make_unique<TraceWriter>(path_, options);
    // Held: the run's row becomes durable only with its prompt and policies (start()).
    run_ = writer_->begin_run(std::move(info), /*hold_until_flush=*/true);
    observer_ = std::make_unique<TraceObserver>(*writer_);
  } catch (...) {
    discard();
    throw;
  }
}

TraceRecording::~TraceRecording() {
  if (!finished_) discard();
}

void TraceRecording::discard() noexcept {
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
      if (remove_trace_of_run(path_, run_)) return;
    } catch (...) {  // it cannot be read or locked: it stays
    }
  }
  // Nothing forwarded was committed: the run would only be an empty interrupted one.
  if (run_ > 0) {
    try {
      delete_empty_run(path_, run_);
    } catch (...) {  // the file cannot be written: the run stays, interrupted
    }
  }
}

void TraceRecording::attach_store(const offload::ExpertStore& store,
                                  const offload::OffloadConfig& config) {
  const offload::ExpertStore* s = &store;
  observer_->set_stall_clock([s] { return s->stats().stall_ns; });
  store_recording_ = std::make_unique<StoreRecording>(*writer_, store, config);
  primary_ = store_recording_->primary();
  shadows_ = store_recording_->shadows();
}

void TraceRecording::simulate(const std::vector<PolicyDescription>& policies) {
  for (const PolicyDescription& d : policies) {
    const int32_t id = writer_->simulate_policy(d, {}, /*cache_events=*/d.primary);
    if (d.primary) {
      primary_ = id;
    } else {
      shadows_.push_back(id);
    }
  }
}

void TraceRecording::start() {
  if (started_) return;
  writer_->flush();
  started_ = true;
}

void TraceRecording::token(const TokenEvent& event) {
  start();  // in case the caller did not
  writer_->generated(event, event.id < 0 ? TokenKind::kNotRecorded : token_kind(tok_, event.id));
  progress();
}

void TraceRecording::progress() {
  // StoreRecording::progress is O(tokens so far): about once a second keeps it negligible.
  const int64_t now = writer_->now_ns();
  if (store_recording_ && now - last_progress_ns_ >= 1'000'000'000) {
    last_progress_ns_ = now;
    store_recording_->progress();
  }
}

void TraceRecording::add_request(int32_t id, std::string_view prompt,
                                 std::vector<std::string> pieces, std::string source_json) {
  writer_->request({id, true, std::string(prompt), std::move(source_json), 0});
  requests_[id].prompt_pieces = std::move(pieces);
}

void TraceRecording::step(std::span<const batching::StepRow> rows) {
  start();
  const int32_t first = forwarded_;
  std::vector<int32_t> requests;
  requests.reserve(rows.size());
  for (const batching::StepRow& row : rows) {
    RequestTokens& q = requests_.at(row.request.value);
    std::string text;
    if (row.prompt) {
      if (q.next_prompt < q.prompt_pieces.size()) text = q.prompt_pieces[q.next_prompt];
      ++q.next_prompt;
    } else {
      text = std::exchange(q.pending_text, {});
      q.pending = -1;
    }
    q.last_pos = forwarded_++;
    writer_->token(q.last_pos, row.token, text, token_kind(tok_, row.token), row.request.value);
    requests.push_back(row.request.value);
  }
  observer_->set_next_step(first, std::move(requests));
  progress();
}

void TraceRecording::sampled(int32_t request, const TokenEvent& event) {
  RequestTokens& q = requests_.at(request);
  if (event.id >= 0) {
    q.pending = event.id;
    q.pending_text = std::string(event.text);
  } else if (q.pending >= 0) {
    q.pending_text += event.text;
  } else if (q.last_pos >= 0) {
    writer_->token(q.last_pos, -1, event.text);
  }
}

void TraceRecording::finish(std::string summary_json) {
  int32_t pos = forwarded_;
  for (auto& [id, q] : requests_) {
    if (q.pending < 0) continue;
    writer_->token(pos++, q.pending, q.pending_text, token_kind(tok_, q.pending), id);
    q.pending = -1;
  }
  if (store_recording_) store_recording_->finish();
  writer_->finish_run(std::move(summary_json));
  finished_ = true;
  observer_.reset();
  writer_.reset();  // closes the file: WAL checkpointed, one self-contained file again
}

}  // namespace moescope::storage
