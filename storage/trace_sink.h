#pragma once
// Internal to the trace writer: the writer thread's side. It owns the connection and the prepared
// statements, keeps the current run's in-memory aggregates, simulates the policies it was asked
// to, and holds routing rows until the transaction commits so that cache outcomes reported
// around the same time land in the row rather than in a later UPDATE.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/policy/access_step.h"
#include "storage/batch_insert.h"
#include "storage/cache_event_tap.h"
#include "storage/routing_blob.h"
#include "storage/sqlite_db.h"
#include "storage/trace_writer.h"
#include "storage/writer_messages.h"

namespace moescope::storage::detail {

class TraceSink {
 public:
  TraceSink(std::unique_ptr<Database> db, const WriterOptions& options);
  ~TraceSink();

  // Handles one message inside the open transaction. Returns the run id for BeginRunMsg.
  int64_t handle(Message& message);
  bool in_transaction() const { return in_tx_; }
  std::chrono::steady_clock::time_point transaction_start() const { return tx_start_; }
  // Writes the staged rows and commits.
  void commit();
  // Makes the file self-contained again (checkpoints the WAL, leaves WAL mode). Best effort.
  void close();

  int64_t commits() const { return commits_; }
  int64_t committed_tokens() const { return committed_tokens_; }
  int64_t rows() const { return rows_; }
  void set_blocked_ns(int64_t ns) { blocked_ns_ = ns; }

 private:
  struct TokenInfo {
    int32_t id = -1;
    std::string text;
    TokenKind kind = TokenKind::kNotRecorded;
    int32_t request = -1;  // for a token never forwarded; -1: the last forwarded token's
  };
  struct Staged {
    ForwardRecord record;
    std::vector<uint8_t> outcome;  // [n_tokens][n_layers][k_max] AccessOutcome
  };
  struct SimPolicy {
    int32_t id = 0;
    std::unique_ptr<policy::CacheSimulator> sim;
    std::unique_ptr<CacheEventTap> tap;
    std::shared_ptr<const policy::AccessStream> future;
  };
  // The current run's state.
  struct Run {
    int64_t id = 0;
    policy::MoeShape shape;
    int32_t n_layers = 0;
    int width = 1;         // bytes per expert id in routing rows
    int32_t next_pos = 0;  // positions below are forwarded and their token rows written
    int32_t staged_first = 0;
    int32_t next_step = 0;     // step id of the next forward call the caller did not number
    int32_t last_request = 0;  // request of the last forwarded token (unforwarded tokens join it)
    bool counts_only = false;  // RoutingDetail::kCounts
    std::unordered_map<int32_t, TokenInfo> token_info;
    std::unordered_map<uint64_t, uint8_t> pending_outcomes;
    std::vector<Staged> staged;
    std::vector<uint8_t> phase_of_pos;
    std::unordered_map<int32_t, int32_t> event_seq;  // [pos] events so far (small keys)
    std::vector<SimPolicy> sims;
    // Aggregates, [phase][...].
    std::array<std::vector<int64_t>, 2> activations, top1, hits, misses;  // [key]
    std::array<std::vector<double>, 2> weight_sum;                        // [key]
    std::array<std::vector<std::vector<int64_t>>, 2> affinity;            // [l][e * n(l+1) + e']
    std::array<std::vector<int64_t>, 2> layer_tokens, layer_compute, layer_stall;  // [l]
    int64_t routing_rows = 0, event_rows = 0, unmatched_outcomes = 0;
  };

  void begin();
  Run& run(const char* what);
  int64_t begin_run(RunInfo& info);
  void prompt(const PromptMsg& m);
  void token(const TokenMsg& m);
  void request(const RequestMsg& m);
  void step_counts(const StepCountsMsg& m);
  void forward(ForwardRecord& r);
  void simulate(Run& run, SimPolicy& p, const Staged& staged);
  void events(std::span<const CacheEvent> events);
  void set_outcome(Run& run, const CacheEvent& e);
  void add_policy(PolicyMsg& m);
  void policy_counters(const CountersMsg& m);
  void compute(const ComputeMsg& m);
  void final_report(int32_t policy, const policy::CacheReport& report, int64_t token_count);
  void finish(const std::string& summary, bool complete);
  void write_staged();
  void add_token_row(const Run& r, int32_t pos, const TokenInfo& info, Phase phase, bool forwarded,
                     int32_t chunk_first, int64_t start_ns, int64_t end_ns, int64_t compute_ns,
                     int64_t stall_ns, int32_t request, int32_t step);
  void write_gate_predictions(const Run& r, const ForwardRecord& rec);
  void write_aggregates(Run& run);
  void count_outcome(Run& run, int32_t pos, MoeLayerId layer, ExpertId expert, uint8_t outcome,
                     int sign);

  std::unique_ptr<Database> db_;
  WriterOptions options_;
  bool in_tx_ = false;
  std::chrono::steady_clock::time_point tx_start_;
  int64_t commits_ = 0, committed_tokens_ = 0, rows_ = 0, blocked_ns_ = 0;
  // unique_ptr, not optional: clang cannot default-construct a nested struct with member
  // initialisers inside its still-incomplete enclosing class (CWG 1397).
  std::unique_ptr<Run> run_;

  Statement ins_run_, ins_layer_, ins_prompt_, upd_token_, app_token_, upd_routing_, sel_routing_,
      ins_policy_, ins_policy_token_, ins_policy_layer_, upd_policy_, ins_expert_stat_,
      ins_affinity_, ins_layer_stat_, upd_run_, upd_summary_,
      ins_request_, upd_request_prompt_, ins_step_counts_;
  // The per-token tables, many rows per statement; flushed before every commit.
  std::unique_ptr<BatchInsert> ins_token_, ins_routing_, ins_timing_, ins_logits_, ins_compute_,
      ins_event_, ins_gate_, ins_candidates_;
  void flush_batches();
  RoutingBlobs blobs_;                      // one token's routing row, reused
  std::vector<std::byte> blob_a_, blob_b_;  // layer timings, compute times
  DecodedRouting decoded_;
  policy::StepBuilder step_builder_;  // the simulated policies' steps
};

}  // namespace moescope::storage::detail
