#include "storage/trace_writer.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <limits>
#include <mutex>
#include <thread>

#include <sqlite3.h>
#include <nlohmann/json.hpp>

#include "engine/common/error.h"
#include "engine/model/generator.h"
#include "engine/policy/prefetcher.h"
#include "storage/bounded_queue.h"
#include "storage/router_candidates.h"
#include "storage/row_keys.h"
#include "storage/run_info.h"
#include "storage/schema.h"
#include "storage/sqlite_db.h"
#include "storage/trace_sink.h"
#include "storage/writer_messages.h"

namespace moescope::storage {

using detail::Message;
using Clock = std::chrono::steady_clock;

namespace {

// Switching to WAL takes the file to itself for a moment, and SQLite does not call the busy
// handler for every lock of the switch: another process may be switching its finished trace back
// to DELETE at that instant. So the switch is retried while the file is busy, as long as a
// commit may wait.
void switch_to_wal(Database& db) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (;;) {
    const int rc =
        sqlite3_exec(db.handle(), "PRAGMA journal_mode = WAL", nullptr, nullptr, nullptr);
    if (rc == SQLITE_OK) return;
    const bool busy = (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED;
    if (!busy || std::chrono::steady_clock::now() > deadline) {
      db.fail_sqlite(rc, "running PRAGMA journal_mode = WAL");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

size_t message_bytes(const Message& m) {
  if (const auto* f = std::get_if<ForwardRecord>(&m)) {
    return sizeof(ForwardRecord) + f->experts.size() * sizeof(ExpertId) +
           (f->weights.size() + f->logits.size() + f->full_logits.size()) * sizeof(float) +
           f->candidates.size() * sizeof(ExpertId) + f->candidate_scores.size() * sizeof(float) +
           f->count.size() + (f->layer_ns.size() + f->layer_stall_ns.size()) * sizeof(int64_t) +
           f->requests.size() * sizeof(int32_t);
  }
  if (const auto* e = std::get_if<detail::EventsMsg>(&m)) {
    return sizeof(Message) + e->events.size() * sizeof(CacheEvent);
  }
  if (const auto* c = std::get_if<detail::StepCountsMsg>(&m)) {
    return sizeof(Message) + c->counts.counts.size() * sizeof(int64_t);
  }
  if (const auto* q = std::get_if<detail::RequestMsg>(&m)) {
    return sizeof(Message) + q->request.prompt.size() + q->request.source_json.size();
  }
  if (const auto* c = std::get_if<detail::CountersMsg>(&m)) {
    return sizeof(Message) + c->counters.size() * sizeof(policy::CacheCounters);
  }
  return sizeof(Message) + 64;
}

}  // namespace

// The queue, the writer thread and the error it may have stopped with.
class TraceWriter::Impl {
 public:
  Impl(std::unique_ptr<Database> db, const WriterOptions& options)
      : options_(options),
        queue_(options.max_queue_bytes, options.max_queue_bytes / 4),
        sink_(std::move(db), options) {
    thread_ = std::thread(&Impl::loop, this);
  }
  ~Impl() {
    queue_.close();
    thread_.join();
  }

  // Bulk data waits for the writer's next poll; synchronous requests wake it.
  void push(Message m) {
    const size_t bytes = message_bytes(m);
    const bool urgent = std::holds_alternative<detail::BeginRunMsg>(m) ||
                        std::holds_alternative<detail::FinishMsg>(m) ||
                        std::holds_alternative<detail::FlushMsg>(m);
    bool accepted = false;
    const int64_t waited = queue_.push(std::move(m), bytes, accepted, urgent);
    if (waited > 0) blocked_ns_.fetch_add(waited, std::memory_order_relaxed);
    if (!accepted) throw_error();
  }

  [[noreturn]] void throw_error() const {
    std::lock_guard lock(error_mu_);
    if (!error_.empty()) throw Error(error_);
    throw Error("the trace writer has stopped");
  }
  void check() const {
    if (failed_.load(std::memory_order_acquire)) throw_error();
  }

  WriterStats stats() const {
    WriterStats s;
    s.commits = commits_.load();
    s.committed_tokens = committed_tokens_.load();
    s.rows = rows_.load();
    s.queued_bytes = int64_t(queue_.bytes());
    s.max_queued_bytes = int64_t(queue_.max_bytes_seen());
    s.blocked_ns = blocked_ns_.load();
    s.busy_ns = busy_ns_.load();
    s.cpu_ns = cpu_ns_.load();
    return s;
  }

 private:
  // Promises of synchronous requests, fulfilled once their batch is committed.
  struct Waiter {
    std::promise<int64_t>* run;
    std::promise<void>* done;
    int64_t value;
  };

  void loop() {
    if (options_.writer_nice != 0) {
      // Best effort: a thread's niceness is per thread on Linux.
      (void)setpriority(PRIO_PROCESS, pid_t(syscall(SYS_gettid)), options_.writer_nice);
    }
    std::vector<Message> batch;
    std::vector<Waiter> waiters;
    std::vector<Waiter> held_runs;  // begun runs waiting for a flush, woken before it
    bool held = false;              // no timed commit: a begun run waits for its flush
    for (;;) {
      auto deadline = Clock::now() + options_.poll_interval;
      if (sink_.in_transaction()) {
        deadline = std::min(deadline, sink_.transaction_start() + options_.flush_interval);
      }
      const auto got = queue_.pop_all(batch, deadline);
      const auto work_start = Clock::now();
      try {
        sink_.set_blocked_ns(blocked_ns_.load());
        for (Message& m : batch) {
          const int64_t value = sink_.handle(m);
          if (auto* b = std::get_if<detail::BeginRunMsg>(&m)) {
            held = b->hold_until_flush;
            (held ? held_runs : waiters).push_back({&b->done, {}, value});
          }
          if (auto* f = std::get_if<detail::FinishMsg>(&m)) {
            waiters.push_back({{}, &f->done, 0});
            held = false;
          }
          if (auto* f = std::get_if<detail::FlushMsg>(&m)) {
            waiters.push_back({{}, &f->done, 0});
            held = false;
          }
        }
        if (!waiters.empty() || got == BoundedQueue<Message>::Pop::kClosed ||
            (!held && sink_.in_transaction() &&
             Clock::now() >= sink_.transaction_start() + options_.flush_interval)) {
          sink_.commit();
        }
        busy_ns_.fetch_add(
            std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - work_start).count(),
            std::memory_order_relaxed);
        publish();
      } catch (const std::exception& e) {
        fail_with(e.what(), batch);
        return;
      }
      // The producer of a held run goes on (prompt, policies, flush) before it is committed.
      for (Waiter& w : held_runs) w.run->set_value(w.value);
      held_runs.clear();
      for (Waiter& w : waiters) {
        if (w.run) w.run->set_value(w.value);
        if (w.done) w.done->set_value();
      }
      waiters.clear();
      batch.clear();
      if (got == BoundedQueue<Message>::Pop::kClosed) break;
    }
    sink_.close();
  }

  // Before any waiter is woken, so that a flush() sees the statistics of what it flushed.
  void publish() {
    timespec cpu{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu);
    cpu_ns_.store(int64_t(cpu.tv_sec) * 1'000'000'000 + cpu.tv_nsec, std::memory_order_relaxed);
    commits_.store(sink_.commits());
    committed_tokens_.store(sink_.committed_tokens());
    rows_.store(sink_.rows());
  }

  // The writer cannot go on (disk full, file gone): later producer calls throw `message`, and
  // every waiting request gets it.
  void fail_with(const std::string& message, std::vector<Message>& batch) {
    {
      std::lock_guard lock(error_mu_);
      error_ = message;
    }
    failed_.store(true, std::memory_order_release);
    queue_.close();
    while (queue_.pop_all(batch, Clock::now()) == BoundedQueue<Message>::Pop::kItems) {
    }
    const auto error = std::make_exception_ptr(Error(message));
    for (Message& m : batch) {
      if (auto* b = std::get_if<detail::BeginRunMsg>(&m)) b->done.set_exception(error);
      if (auto* f = std::get_if<detail::FinishMsg>(&m)) f->done.set_exception(error);
      if (auto* f = std::get_if<detail::FlushMsg>(&m)) f->done.set_exception(error);
    }
  }

  WriterOptions options_;
  BoundedQueue<Message> queue_;
  detail::TraceSink sink_;
  std::thread thread_;

  mutable std::mutex error_mu_;
  std::string error_;
  std::atomic<bool> failed_{false};
  std::atomic<int64_t> commits_{0}, committed_tokens_{0}, rows_{0}, blocked_ns_{0}, busy_ns_{0},
      cpu_ns_{0};
};

// ---- producers ---------------------------------------------------------------------------------

TraceWriter::TraceWriter(const std::filesystem::path& path, WriterOptions options)
    : path_(path), options_(options) {
  if (options_.flush_interval <= std::chrono::milliseconds(0) ||
      options_.flush_interval > std::chrono::milliseconds(1000)) {
    fail("the trace flush interval must be 1 to 1000 ms");
  }
  if (options_.poll_interval <= std::chrono::milliseconds(0)) {
    fail("the trace writer's poll interval must be at least 1 ms");
  }
  options_.poll_interval = std::min(options_.poll_interval, options_.flush_interval);
  auto db = std::make_unique<Database>(path, Database::Mode::kCreate);
  // Until the file is in WAL mode a reader's snapshot (a report of the trace, TraceReader::
  // hold_snapshot) blocks the schema work and the switch: wait for it longer than for a commit.
  db->exec("PRAGMA busy_timeout = 120000");
  prepare_for_writing(*db);
  // WAL: readers (the GUI) see committed runs while recording goes on, and a killed writer
  // leaves a file that opens. NORMAL: commits survive a process crash (not a power cut).
  switch_to_wal(*db);
  db->exec("PRAGMA synchronous = NORMAL");
  db->exec("PRAGMA busy_timeout = 5000");
  impl_ = std::make_unique<Impl>(std::move(db), options_);
}

TraceWriter::~TraceWriter() = default;

void TraceWriter::require_run(const char* what) const {
  impl_->check();
  if (run_ == 0) fail("trace writer: {} without a run (call begin_run first)", what);
}

int64_t TraceWriter::now_ns() const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - epoch_).count();
}

int64_t TraceWriter::begin_run(RunInfo info, bool hold_until_flush) {
  impl_->check();
  if (run_ != 0) fail("trace writer: run {} is still being recorded; finish it first", run_);
  info.model.shape.validate();
  if (info.model.shape.n_layers() > kMaxLayers) {
    fail("trace writer: the model has {} MoE layers, more than a trace holds ({})",
         info.model.shape.n_layers(), kMaxLayers);
  }
  for (int32_t k : info.model.shape.top_k) {
    if (k >= kMaxRank) fail("trace writer: top-k {} is more than a trace holds", k);
  }
  if (info.machine_json.empty()) info.machine_json = machine_info_json();
  if (info.moescope_version.empty()) info.moescope_version = std::string(moescope_version());
  info.started_unix_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  shape_ = info.model.shape;
  k_max_ = 1;
  for (int32_t k : shape_.top_k) k_max_ = std::max(k_max_, k);
  detail::BeginRunMsg msg{std::move(info), {}, hold_until_flush};
  auto done = msg.done.get_future();
  epoch_ = Clock::now();
  impl_->push(std::move(msg));
  run_ = done.get();
  prompt_tokens_ = 0;
  prompt_count_ = 0;
  policy_count_ = 0;
  next_pos_ = 0;
  gate_predictions_ = false;
  compute_sent_ = 0;
  {
    std::lock_guard lock(policy_mu_);
    policy_written_.clear();
  }
  return run_;
}

void TraceWriter::prompt(std::string_view text, std::span<const int32_t> ids,
                         std::span<const std::string> pieces, std::span<const TokenKind> kinds) {
  require_run("a prompt");
  if (!kinds.empty() && kinds.size() != ids.size()) {
    fail("trace writer: a prompt of {} tokens with {} token kinds", ids.size(), kinds.size());
  }
  detail::PromptMsg m;
  m.index = prompt_count_++;
  m.first_pos = prompt_tokens_;
  m.text = text;
  m.ids.assign(ids.begin(), ids.end());
  m.pieces.assign(pieces.begin(), pieces.end());
  m.kinds.assign(kinds.begin(), kinds.end());
  prompt_tokens_ += int32_t(ids.size());
  impl_->push(std::move(m));
}

void TraceWriter::token(int32_t pos, int32_t id, std::string_view text, TokenKind kind,
                        int32_t request) {
  require_run("a token");
  if (pos < 0) fail("trace writer: token position {} is negative", pos);
  impl_->push(detail::TokenMsg{pos, id, std::string(text), kind, request});
}

void TraceWriter::request(RequestRecord request) {
  require_run("a request");
  if (request.id < 0) fail("trace writer: request id {} is negative", request.id);
  impl_->push(detail::RequestMsg{std::move(request)});
}

void TraceWriter::step_expert_counts(StepExpertCounts counts) {
  require_run("step expert counts");
  if (counts.step < 0) fail("trace writer: step {} is negative", counts.step);
  if (counts.counts.size() != size_t(shape_.total_experts())) {
    fail("trace writer: step counts for {} experts, the run has {}", counts.counts.size(),
         shape_.total_experts());
  }
  for (int64_t c : counts.counts) {
    if (c < 0 || c > std::numeric_limits<int32_t>::max())
      fail("trace writer: an expert count of {} in step {}", c, counts.step);
  }
  impl_->push(detail::StepCountsMsg{std::move(counts)});
}

void TraceWriter::generated(const TokenEvent& event, TokenKind kind) {
  token(prompt_tokens_ + event.index, event.id, event.text, kind);
}

void TraceWriter::forward(ForwardRecord&& r) {
  require_run("a forward pass");
  const int32_t L = shape_.n_layers();
  if (r.n_layers != L || r.k_max < 1 || r.k_max > 255 || r.n_tokens < 1) {
    fail("trace writer: a forward record has {} layers and k {}, the run's model {} and {}",
         r.n_layers, r.k_max, L, k_max_);
  }
  const size_t cells = size_t(r.n_tokens) * size_t(L);
  const size_t slots = cells * size_t(r.k_max);
  if (r.count.size() != cells || r.experts.size() != slots || r.weights.size() != slots ||
      r.logits.size() != slots ||
      (!r.full_logits.empty() &&
       r.full_logits.size() != size_t(r.n_tokens) * shape_.total_experts()) ||
      (!r.candidates.empty() &&
       (r.candidates.size() !=
            size_t(r.n_tokens) * size_t(router_candidate_offsets(shape_).back()) ||
        r.candidate_scores.size() != r.candidates.size())) ||
      (!r.layer_ns.empty() &&
       (r.layer_ns.size() != size_t(L) || r.layer_stall_ns.size() != size_t(L)))) {
    fail("trace writer: a forward record's arrays do not match its {} tokens and {} layers",
         r.n_tokens, L);
  }
  for (size_t c = 0; c < cells; ++c) {
    const int32_t l = int32_t(c % size_t(L));
    if (r.count[c] > r.k_max) fail("trace writer: more than k experts at layer {}", l);
    for (int i = 0; i < r.count[c]; ++i) {
      const int32_t e = r.experts[c * size_t(r.k_max) + size_t(i)].value;
      if (e < 0 || e >= shape_.n_experts[size_t(l)]) {
        fail("trace writer: expert {} does not exist in MoE layer {}", e, l);
      }
    }
  }
  for (const GatePrediction& g : r.gate_predictions) {
    if (g.pos < r.first_pos || g.pos >= r.first_pos + r.n_tokens || g.layer.value < 0 ||
        g.layer.value >= L || g.experts.size() > 255) {
      fail("trace writer: a next-gate prediction for position {} layer {} outside its call", g.pos,
           g.layer.value);
    }
    for (ExpertId e : g.experts) {
      if (e.value < 0 || e.value >= shape_.n_experts[size_t(g.layer.value)])
        fail("trace writer: predicted expert {} does not exist in MoE layer {}", e.value,
             g.layer.value);
    }
  }
  if (!r.requests.empty() && r.requests.size() != size_t(r.n_tokens)) {
    fail("trace writer: a forward record of {} tokens names {} requests", r.n_tokens,
         r.requests.size());
  }
  for (int32_t q : r.requests) {
    if (q < 0) fail("trace writer: request id {} is negative", q);
  }
  if (r.first_pos != next_pos_) {
    fail(
        "trace writer: a forward call at position {}, but the run continues at {} (a run "
        "records one sequence from position 0; start a new run for a new sequence)",
        r.first_pos, next_pos_);
  }
  if (int64_t(r.first_pos) + r.n_tokens > kMaxPositions) {
    fail("trace writer: position {} is past the longest sequence a trace holds ({})",
         r.first_pos + r.n_tokens, kMaxPositions);
  }
  next_pos_ += r.n_tokens;
  impl_->push(std::move(r));
}

void TraceWriter::cache_events(std::span<const CacheEvent> events) {
  require_run("cache events");
  if (events.empty()) return;
  impl_->push(detail::EventsMsg{{events.begin(), events.end()}});
}

int32_t TraceWriter::add_policy(PolicyDescription desc) {
  require_run("a policy");
  desc.capacity.validate(shape_);
  desc.id = policy_count_++;
  {
    std::lock_guard lock(policy_mu_);
    policy_written_.push_back(0);
  }
  const int32_t id = desc.id;
  impl_->push(detail::PolicyMsg{std::move(desc), nullptr, false, nullptr});
  return id;
}

int32_t TraceWriter::simulate_policy(PolicyDescription desc, const policy::PolicyInputs& inputs,
                                     bool events, bool counters) {
  require_run("a policy");
  const policy::PolicySpec spec = policy::parse_policy_spec(desc.spec);
  if (spec.oracle && !inputs.future) {
    fail("policy '{}' is an oracle: it can only be simulated with the recorded future (replay)",
         spec.text);
  }
  if (desc.measured_compute) {
    fail(
        "policy '{}': a simulated policy models compute with the timing model, not measured "
        "times (record the live cache's counters with add_policy instead)",
        spec.text);
  }
  if (spec.pool != desc.capacity.pool) {
    fail("policy '{}' and its capacity disagree on per-layer vs global pools", spec.text);
  }
  desc.capacity.validate(shape_);
  auto sim = std::make_unique<policy::CacheSimulator>(
      shape_, desc.capacity, policy::make_policy(spec, inputs),
      policy::make_prefetcher(desc.prefetcher, {inputs.history}), desc.timing, spec.text,
      desc.prefetcher);
  desc.id = -1;
  if (counters) {
    desc.id = policy_count_++;
    std::lock_guard lock(policy_mu_);
    policy_written_.push_back(0);
  }
  const int32_t id = desc.id;
  impl_->push(detail::PolicyMsg{std::move(desc), std::move(sim), events, inputs.future});
  return id;
}

void TraceWriter::policy_tokens(int32_t policy, int32_t first_pos,
                                std::span<const policy::CacheCounters> counters) {
  require_run("policy counters");
  if (policy < 0 || policy >= policy_count_) fail("trace writer: no policy {}", policy);
  if (counters.empty()) return;
  impl_->push(detail::CountersMsg{policy, first_pos, {counters.begin(), counters.end()}});
}

void TraceWriter::policy_report(int32_t policy, const policy::CacheReport& report, bool final) {
  require_run("a policy report");
  if (policy < 0 || policy >= policy_count_) fail("trace writer: no policy {}", policy);
  int64_t from = 0;
  const int64_t n = int64_t(report.token.size());
  const int64_t to = final ? n : std::max<int64_t>(0, n - 1);
  {
    std::lock_guard lock(policy_mu_);
    from = policy_written_[size_t(policy)];
    if (to > from) policy_written_[size_t(policy)] = to;
  }
  if (to > from) {
    policy_tokens(policy, int32_t(from),
                  std::span<const policy::CacheCounters>(report.token)
                      .subspan(size_t(from), size_t(to - from)));
  }
  if (final) {
    detail::FinalReportMsg m;
    m.policy = policy;
    m.report.policy = report.policy;
    m.report.prefetcher = report.prefetcher;
    m.report.phase = report.phase;
    m.report.layer = report.layer;
    m.report.end_ns = report.end_ns;
    m.token_count = n;
    impl_->push(std::move(m));
  }
}

void TraceWriter::cache_compute_times(std::span<const int64_t> compute_ns) {
  require_run("compute times");
  const auto L = size_t(shape_.n_layers());
  const int64_t tokens = int64_t(compute_ns.size() / L);
  if (tokens <= compute_sent_) return;
  detail::ComputeMsg m;
  m.first_pos = int32_t(compute_sent_);
  m.compute_ns.assign(compute_ns.begin() + compute_sent_ * int64_t(L),
                      compute_ns.begin() + tokens * int64_t(L));
  compute_sent_ = tokens;
  impl_->push(std::move(m));
}

void TraceWriter::finish_run(std::string summary_json) {
  require_run("finish_run");
  detail::FinishMsg m{std::move(summary_json), true, {}};
  auto done = m.done.get_future();
  impl_->push(std::move(m));
  run_ = 0;
  done.get();
}

void TraceWriter::abort_run(std::string_view reason) {
  require_run("abort_run");
  nlohmann::json j;
  j["aborted"] = std::string(reason);
  detail::FinishMsg m{j.dump(), false, {}};
  auto done = m.done.get_future();
  impl_->push(std::move(m));
  run_ = 0;
  done.get();
}

void TraceWriter::flush() {
  impl_->check();
  detail::FlushMsg m;
  auto done = m.done.get_future();
  impl_->push(std::move(m));
  done.get();
}

WriterStats TraceWriter::stats() const {
  return impl_->stats();
}

}  // namespace moescope::storage
