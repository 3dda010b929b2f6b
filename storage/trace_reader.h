#pragma once
// Reads trace files for the CLI (runs, replay, report, export) and the GUI: runs and their
// metadata, token ranges, per-layer aggregates, heatmap and affinity matrices, policy counters,
// and the routing trace for replay. Aggregates come from tables the writer fills when a run
// finishes; for an interrupted run they are computed from the rows (slower, same numbers).
//
// Every failure is a one-line moescope::Error naming the file: missing, not SQLite, not a trace,
// newer schema, corrupt, unknown run. One reader per thread (or serialise the calls).
#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/policy/cache_counters.h"
#include "engine/policy/prefetcher.h"
#include "engine/policy/routing_trace.h"
#include "storage/router_candidates.h"
#include "storage/trace_types.h"

namespace moescope::storage {

class Database;
struct DecodedRouting;

// Positions [begin, end).
struct TokenRange {
  int32_t begin = 0;
  int32_t end = std::numeric_limits<int32_t>::max();
};

// Row-major rows x cols.
template <typename T>
struct Matrix {
  int32_t rows = 0;
  int32_t cols = 0;
  std::vector<T> values;

  Matrix() = default;
  Matrix(int32_t r, int32_t c, T fill = T{}) : rows(r), cols(c), values(size_t(r) * c, fill) {}
  T& at(int32_t r, int32_t c) { return values[size_t(r) * size_t(cols) + size_t(c)]; }
  const T& at(int32_t r, int32_t c) const { return values[size_t(r) * size_t(cols) + size_t(c)]; }
};

struct RunSummary {
  int64_t id = 0;
  std::string label;
  RunStatus status = RunStatus::kInterrupted;
  int64_t started_unix_ns = 0;
  int64_t ended_unix_ns = 0;
  std::string model_path;
  std::string architecture;
  int32_t n_moe_layers = 0;
  int32_t n_tokens = 0;               // positions with a token row
  int32_t n_forwarded = 0;            // ... that ran through the model
  int32_t n_prefill = 0;              // forwarded prefill tokens
  std::vector<std::string> policies;  // specs, primary first
};

struct PromptRecord {
  int32_t index = 0;
  int32_t first_pos = 0;
  int32_t n_tokens = 0;
  std::string text;
};

struct LayerTiming {
  int32_t pos = 0;  // first position of the forward call
  MoeLayerId layer;
  int32_t n_tokens = 0;
  int64_t compute_ns = 0;
  int64_t stall_ns = 0;
};

// One MoE layer over a run (one phase or both).
struct LayerAggregate {
  MoeLayerId layer;
  int32_t model_layer = 0;
  int32_t n_experts = 0;
  int64_t tokens = 0;       // forwarded tokens
  int64_t activations = 0;  // routing entries
  int64_t hits = 0;         // entries whose cache outcome is a hit (prefetched ones included)
  int64_t misses = 0;       // ... a miss or bypass
  int64_t compute_ns = 0;
  int64_t stall_ns = 0;
  double jain_fairness = 0;  // of the per-expert activation counts
  double load_entropy_bits = 0;
  int32_t hot_set_80 = 0;  // fewest experts covering >= 80 % of activations
  double hit_rate() const {
    return hits + misses ? double(hits) / double(hits + misses)
                         : std::numeric_limits<double>::quiet_NaN();
  }
};

// Layer x expert matrices ([n_layers][max experts]; cells past a layer's experts stay 0 / NaN).
struct ExpertMatrices {
  Matrix<int64_t> activations;
  Matrix<int64_t> top1;  // times the expert was a token's first choice
  Matrix<int64_t> hits;
  Matrix<int64_t> misses;
  Matrix<double> hit_rate;     // hits / (hits + misses); NaN without cache outcomes
  Matrix<double> mean_weight;  // mean mixing weight when selected; NaN when never selected
};

struct AffinityMatrix {
  MoeLayerId layer;            // from this layer to the next
  Matrix<int64_t> counts;      // [n_experts(l)][n_experts(l+1)]: pairs of selected experts
  Matrix<double> conditional;  // P(e' at l+1 | e at l): rows of counts normalised (0 if empty)
};

// A token x expert matrix of one layer: the mixing weight of every selected expert, 0 elsewhere.
struct TokenExpertMatrix {
  MoeLayerId layer;
  std::vector<int32_t> positions;  // [rows]
  Matrix<float> weights;           // [rows][n_experts(l)]
};

// One forwarded token's routing with where it came from (TraceReader::scan_token_routing).
// The spans are valid during the callback only.
struct TokenRouting {
  int32_t pos = 0;      // position in the run's token stream (0, 1, 2, ...)
  int32_t request = 0;  // request (sequence) id
  int32_t step = -1;    // forward call (batch) id; -1 when not recorded
  Phase phase = Phase::kDecode;
  int32_t token_id = -1;
  const DecodedRouting* routing = nullptr;  // experts / weights of every MoE layer
  // Experts selected at MoE layer l, in rank order.
  std::span<const ExpertId> experts(int32_t layer) const;
};

// Where a loaded trace's compute_ns come from (a replay models time from them when present).
enum class ComputeSource : uint8_t {
  kNone,          // no compute_ns: a replay uses the timing model
  kCache,         // the live cache's measured compute (TraceWriter::cache_compute_times)
  kLayerTimings,  // the trace observer's layer timings (compute part)
};

struct RoutingTraceOptions {
  bool probs = false;  // router probabilities from the recorded logits (needs them)
  ComputeSource compute = ComputeSource::kNone;
};

// (target token, target MoE layer) -> the experts next-gate speculation predicted for it, most
// likely first: the form the GUI's analysis replays (views/session/run_data.h GatePredictions).
using GatePredictionMap = std::map<policy::PrefetchTarget, std::vector<ExpertId>>;

struct ReaderOptions {
  // Upgrade an older schema in place before reading. Without (or when the file cannot be
  // written), an older trace is read as it is: what it does not hold reads as not recorded.
  bool upgrade = true;
};

class TraceReader {
 public:
  // Opens an existing trace read-only (an older schema is upgraded in place first, when the file
  // can be written; a read-only one is read as it is).
  explicit TraceReader(const std::filesystem::path& path, ReaderOptions options = {});
  ~TraceReader();
  TraceReader(const TraceReader&) = delete;
  TraceReader& operator=(const TraceReader&) = delete;

  const std::filesystem::path& path() const { return path_; }
  // From here on every read sees one snapshot of the file (one read transaction, held until the
  // reader goes): a writer recording into the trace meanwhile is seen as of this moment, never
  // half-way between two commits. For the one-shot commands (replay, report, export); a live
  // view wants to see the run grow and does not call it.
  void hold_snapshot();
  // The schema version of the file as it is read (kSchemaVersion unless read without upgrade).
  int32_t schema_version() const { return version_; }

  std::vector<RunSummary> runs();
  // The newest run; throws when the trace has none.
  int64_t latest_run();
  // Throws "trace FILE has no run N (runs: ...)" for an unknown id.
  void check_run(int64_t run);
  RunInfo run_info(int64_t run);
  policy::MoeShape shape(int64_t run);
  std::vector<PromptRecord> prompts(int64_t run);
  // The run's requests by id, with their token counts (schema 3; an older file read without
  // upgrade has request 0). Ids that only tokens name come back without a prompt.
  std::vector<RequestRecord> requests(int64_t run);
  // Expert counts per step of a counts-only run (RoutingDetail::kCounts), by step; empty for a
  // run with per-token routing.
  std::vector<StepExpertCounts> step_expert_counts(int64_t run);
  // Why an analysis that needs every token's routing in order cannot run on this run, or empty
  // when it can ("run 3 holds expert counts only (an SGLang stat dump): ...").
  std::string token_routing_unavailable(int64_t run);
  // Calls visit for every forwarded token of the run in position order, with its request and
  // step: the streaming form for large imported runs (memory: one token at a time).
  void scan_token_routing(int64_t run, const std::function<void(const TokenRouting&)>& visit);
  // [n_tokens of routing_trace(run)]: the request / step of each routed token, in its order.
  std::vector<int32_t> token_requests(int64_t run);
  std::vector<int32_t> token_steps(int64_t run);

  std::vector<TokenRecord> tokens(int64_t run, TokenRange range = {});
  // Routing entries in (pos, layer, rank) order, optionally of one layer only.
  std::vector<RoutingEntry> routing(int64_t run, TokenRange range = {},
                                    std::optional<MoeLayerId> layer = std::nullopt);
  std::vector<LayerTiming> layer_timings(int64_t run, TokenRange range = {});
  // The cache's events by position. with_accesses: also the accesses kept only as routing
  // outcomes (hits, plain misses, prefetch uses), so the list is complete.
  std::vector<CacheEvent> cache_events(int64_t run, TokenRange range = {},
                                       bool with_accesses = true);
  // The next-gate predictions recorded for targets in range, by (pos, layer); empty for a run
  // whose prefetcher was not next-gate, and for a schema-1 trace.
  std::vector<GatePrediction> gate_predictions(int64_t run, TokenRange range = {});
  GatePredictionMap gate_prediction_map(int64_t run);
  // Every forwarded token's router candidates in range, by position (schema 4: the top-2k router
  // probabilities a run under capacity-aware gating records; storage/router_candidates.h);
  // empty for a run that did not record them and for an older trace.
  std::vector<RouterCandidates> router_candidates(int64_t run, TokenRange range = {});
  bool has_router_candidates(int64_t run);
  // First positions of the run's forward calls (the chunks prefill ran in).
  std::vector<int32_t> forward_calls(int64_t run);

  // from_rows forces computing from the rows even when the aggregate tables are present.
  std::vector<LayerAggregate> layer_aggregates(
      int64_t run, policy::PhaseFilter phase = policy::PhaseFilter::kAll, bool from_rows = false);
  ExpertMatrices expert_matrices(int64_t run, policy::PhaseFilter phase = policy::PhaseFilter::kAll,
                                 bool from_rows = false);
  AffinityMatrix affinity(int64_t run, MoeLayerId layer,
                          policy::PhaseFilter phase = policy::PhaseFilter::kAll,
                          bool from_rows = false);
  TokenExpertMatrix token_expert(int64_t run, MoeLayerId layer, TokenRange range = {});

  std::vector<PolicyDescription> policies(int64_t run);
  PolicyDescription policy(int64_t run, int32_t policy);
  // Per-token counters of positions in range (zeros where nothing was booked).
  std::vector<policy::CacheCounters> policy_tokens(int64_t run, int32_t policy,
                                                   TokenRange range = {});
  // The policy's CacheReport as recorded: equal to the live one for a complete run. For an
  // interrupted run the per-layer counters are missing and the phase totals are summed from the
  // token counters.
  policy::CacheReport policy_report(int64_t run, int32_t policy);

  // The run's routing as the simulator reads it (forwarded tokens, positions 0..n-1).
  policy::RoutingTrace routing_trace(int64_t run, RoutingTraceOptions options = {});

 private:
  struct RowAggregates;
  // Decodes the routing rows of positions in range, in position order.
  void for_each_routing(int64_t run, const policy::MoeShape& shape, TokenRange range,
                        const std::function<void(int32_t pos, const DecodedRouting&)>& visit);
  bool has_aggregates(int64_t run);
  // Aggregates from one pass over an (interrupted) run's rows, cached until the run grows.
  const RowAggregates& row_aggregates(int64_t run);
  int32_t phase_mask(policy::PhaseFilter phase) const;
  // runs.source_* and routing_detail (schema 3) into info.
  void read_import_source(int64_t run, RunInfo& info);

  std::filesystem::path path_;
  int32_t version_ = 0;
  std::unique_ptr<Database> db_;
  std::map<int64_t, std::pair<int64_t, std::shared_ptr<RowAggregates>>> row_cache_;
};

// Cumulative hit rate after each token (NaN until the first access).
std::vector<double> cumulative_hit_rate(const std::vector<policy::CacheCounters>& tokens);

}  // namespace moescope::storage
