#pragma once
// Everything a run's report shows, gathered from a TraceReader: the run's metadata, key numbers,
// layer x expert matrices, inter-layer affinity, every recorded policy with its counters, the
// one-pass LRU/OPT capacity curves, per-layer aggregates and the text with each token's misses.
// The HTML and PDF writers only lay this out.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/policy/cache_counters.h"
#include "engine/policy/stack_curves.h"
#include "engine/policy/suitability.h"
#include "storage/report/placement_data.h"
#include "storage/trace_reader.h"

namespace moescope::storage::report {

struct ReportOptions {
  int32_t max_text_tokens = 4000;     // tokens shown in the coloured text (the rest is counted)
  int32_t max_affinity_experts = 16;  // rows / columns of one affinity grid (the busiest experts)
  int32_t max_curve_points = 600;     // points of one cumulative hit-rate curve
};

struct KeyNumbers {
  int32_t prefill_tokens = 0;    // forwarded
  int32_t decode_tokens = 0;     // forwarded
  int32_t generated_tokens = 0;  // decode-phase rows (forwarded or not)
  int64_t wall_ns = 0;           // forward calls, summed
  int64_t decode_wall_ns = 0;
  int64_t stall_ns = 0;  // measured by the engine (tokens.stall_ns)
  double decode_tokens_per_s = 0;
  double stall_share = 0;  // stall / forward-call time
  // The primary (or first) policy's totals; nullopt when the run recorded no cache.
  std::optional<double> hit_rate;
  std::optional<int64_t> bytes_loaded;
  std::string hit_rate_policy;
  int64_t duration_ns = 0;  // run start to end (interrupted: to its last token)
};

struct PolicyRow {
  PolicyDescription description;
  policy::CacheReport report;
  std::vector<double> cumulative_x;  // positions (downsampled)
  std::vector<double> cumulative_y;  // cumulative hit rate after that position (NaN before any)
};

struct CapacityCurves {
  bool valid = false;
  int32_t max_experts = 0;  // the per-layer curves' capacity axis: 0..max_experts slots a layer
  int64_t total_experts = 0;
  std::vector<double> lru_per_layer;  // [max_experts + 1] hit rate over all layers
  std::vector<double> opt_per_layer;
  std::vector<double> lru_global;  // [total_experts + 1] one pool
  std::vector<double> opt_global;
  std::optional<double> budget_percent;  // the primary policy's capacity, % of all experts
  uint64_t budget_slots = 0;
};

// The offloading suitability of the run's routing (engine/policy/suitability.h), on the run's
// link (nvme when it ran without one) with the run's measured decode compute when recorded.
struct SuitabilitySection {
  std::optional<policy::Suitability> result;  // none: the run has no forwarded token
  std::string error;                          // why there is no result
  storage::ComputeSource compute = storage::ComputeSource::kNone;  // where compute_ns came from
  std::string link;                                                // preset name
};

struct ReportToken {
  int32_t pos = 0;
  int32_t request = 0;
  std::string text;
  bool decode = false;
  bool forwarded = false;
  int32_t misses = 0;
  std::string path;  // the routing path: "L0 3,7 · L1 5,2 · ..."
};

struct AffinityGrid {
  int32_t layer = 0;          // from MoE layer `layer` to layer + 1
  std::vector<int32_t> rows;  // experts of layer l shown
  std::vector<int32_t> cols;  // experts of layer l+1 shown
  AffinityMatrix matrix;      // the full matrix
};

struct ReportData {
  int64_t run = 0;
  std::string trace_path;
  RunInfo info;
  RunSummary summary;
  std::vector<PromptRecord> prompts;
  KeyNumbers key;
  ExpertMatrices experts;
  std::vector<int32_t> layer_experts;  // experts of each MoE layer
  std::vector<AffinityGrid> affinity;
  bool affinity_subset = false;  // some grid shows only the busiest experts
  std::vector<LayerAggregate> layers;
  std::vector<PolicyRow> policies;  // primary first
  CapacityCurves curves;
  SuitabilitySection suitability;
  PlacementSection placement;
  // The first max_text_tokens positions; in a run of several requests (batched or imported) the
  // first max_text_tokens in request order, each request's in position order (its prompt, then
  // its generation), so that every request reads as its own text.
  std::vector<ReportToken> tokens;
  std::vector<RequestRecord> requests;  // the run's requests, by id
  bool per_request = false;             // more than one request: the text is shown per request
  int32_t total_tokens = 0;
  bool misses_known = false;  // the run recorded cache outcomes (or per-token counters)
  std::string misses_source;  // where the per-token misses come from
  int32_t max_token_misses = 0;
};

// Reads everything of `run` (which must exist). Throws moescope::Error on a damaged trace.
ReportData gather_report(TraceReader& reader, int64_t run, const ReportOptions& options = {});

// The inputs the report's suitability analysis uses for `run`: the routing trace (with the
// compute times it reads) and the options. Tests recompute the section from them.
struct SuitabilityInputs {
  policy::RoutingTrace trace;
  policy::SuitabilityOptions options;
  ComputeSource compute = ComputeSource::kNone;
};
SuitabilityInputs suitability_inputs(TraceReader& reader, int64_t run);

}  // namespace moescope::storage::report
