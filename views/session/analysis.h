#pragma once
// The cache analysis of a run's routing: every selected policy replayed on the run's access
// stream (so the counters equal the live expert store's, see engine/policy/simulator.h), the
// reference oracles, per-access outcomes and residency of the chosen policy, one-pass hit-rate
// curves, routing statistics and inter-layer affinity. A pure function of the routing and the
// settings: it runs on a worker thread, for a live run's prefix or for a whole recorded trace.
#include <QString>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/policy/cache_counters.h"
#include "engine/policy/capacity.h"
#include "engine/policy/routing_stats.h"
#include "engine/policy/routing_trace.h"
#include "engine/policy/stack_curves.h"
#include "views/session/run_data.h"
#include "views/session/run_settings.h"

namespace moescope::views {

enum class AccessOutcome : uint8_t { kMiss = 0, kHit = 1, kPrefetchHit = 2 };

struct PolicyRun {
  enum class Role : uint8_t { kChosen, kCompared, kBound };
  std::string spec;  // canonical spelling
  Role role = Role::kCompared;
  bool oracle = false;
  // A kBound reference is called a bound only when it is one: at every token (from the first and
  // from the first decode token) its cumulative hits are at least, and its bytes loaded and
  // modelled stall at most, every other drawn run's. An on-demand oracle beside a prefetching
  // policy usually is not.
  bool bound = false;
  policy::CacheReport report;  // counters per phase, layer and token
  std::string error;           // set instead of report when the policy could not run
};

struct AnalysisResult {
  int64_t n_tokens = 0;  // routed tokens analysed
  CacheSettings settings;
  uint64_t budget_slots = 0;
  policy::CacheCapacity capacity;   // of the chosen policy
  std::vector<PolicyRun> policies;  // the chosen policy first, then compared ones, then bounds

  // The chosen policy, per selection (aligned with RunData's flat selection arrays).
  std::vector<AccessOutcome> outcome;
  std::vector<int64_t> key_accesses;     // [total experts] stream accesses of (l, e)
  std::vector<int64_t> key_hits;         // [total experts]
  std::vector<int64_t> resident_tokens;  // [total experts] tokens during which (l, e) was cached

  policy::CurveSet lru_curves;
  policy::CurveSet opt_curves;
  policy::RoutingStats stats;
  // [n_layers - 1] P(e' at l+1 | e at l), row-major [n_experts[l]][n_experts[l+1]].
  std::vector<std::vector<double>> affinity;
  // [n_layers] P(j also selected | i selected) within one token, [n_experts][n_experts].
  std::vector<std::vector<double>> coactivation;

  const PolicyRun* chosen() const { return policies.empty() ? nullptr : &policies.front(); }
};

// Prefill tokens per access-stream step: the generator's batch, so that the stream is the one
// the expert store saw.
inline constexpr int32_t kPrefillChunk = 512;

// `trace` must be validated (its shape indexed). Never throws for a policy that fails: its
// PolicyRun carries the error. A next-gate prefetcher replays `gate_predictions` (what the engine
// predicted during the run); without them it predicts nothing.
std::shared_ptr<AnalysisResult> analyse(const policy::RoutingTrace& trace,
                                        const CacheSettings& settings,
                                        const GatePredictions* gate_predictions = nullptr);

}  // namespace moescope::views
