#pragma once
// The cache analysis of a run's routing: every selected policy replayed on the run's access
// stream (so the counters equal the live expert store's, see simulator.h), the reference oracles,
// per-access outcomes and residency of the chosen policy, one-pass hit-rate curves, routing
// statistics and inter-layer affinity. A pure function of the routing and the request: the GUI
// runs it on a worker thread (views/session/analysis), for a live run's prefix or for a whole
// recorded trace.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/policy/cache_counters.h"
#include "engine/policy/capacity.h"
#include "engine/policy/prefetcher.h"
#include "engine/policy/routing_stats.h"
#include "engine/policy/routing_trace.h"
#include "engine/policy/stack_curves.h"

namespace moescope::policy {

// What the chosen policy made of one selection.
enum class AnalysisOutcome : uint8_t { kMiss = 0, kHit = 1, kPrefetchHit = 2 };

// Next-gate predictions the engine made during a run: (token, MoE layer) -> experts.
using GatePredictions = std::map<PrefetchTarget, std::vector<ExpertId>>;

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
  CacheReport report;  // counters per phase, layer and token
  std::string error;   // set instead of report when the policy could not run
};

// What to analyse, by name (docs/policies-cli.md).
struct AnalysisRequest {
  std::string policy = "lru";  // the chosen policy
  std::string prefetcher = "none";
  std::string link = "none";
  std::string allocator = "uniform";
  std::vector<std::string> compare;  // replayed beside it (an entry equal to `policy` is skipped)
  std::vector<std::string> bounds;   // reference oracles, run without a prefetcher
  uint64_t budget_slots = 0;
};

// The policy runs of an analysis, read like a vector of PolicyRun. The runs are shared, never
// copied, between the snapshots an analysis publishes while it runs (a run holds counters per
// token: tens of MB on a 100k-token trace).
class PolicyRuns {
 public:
  class const_iterator {
   public:
    using Base = std::vector<std::shared_ptr<const PolicyRun>>::const_iterator;
    explicit const_iterator(Base it) : it_(it) {}
    const PolicyRun& operator*() const { return **it_; }
    const PolicyRun* operator->() const { return it_->get(); }
    const_iterator& operator++() {
      ++it_;
      return *this;
    }
    bool operator==(const const_iterator&) const = default;

   private:
    Base it_;
  };

  size_t size() const { return runs_.size(); }
  bool empty() const { return runs_.empty(); }
  const PolicyRun& operator[](size_t i) const { return *runs_[i]; }
  const PolicyRun& front() const { return *runs_.front(); }
  const_iterator begin() const { return const_iterator(runs_.begin()); }
  const_iterator end() const { return const_iterator(runs_.end()); }
  void push_back(PolicyRun run) {
    runs_.push_back(std::make_shared<const PolicyRun>(std::move(run)));
  }

 private:
  std::vector<std::shared_ptr<const PolicyRun>> runs_;
};

// The parts of an analysis, in the order analyse_cache fills and publishes them: what the first
// views need comes first, the slower parts later.
enum AnalysisPart : uint32_t {
  kAnalysisRouting = 1u << 0,   // stats, affinity, coactivation
  kAnalysisChosen = 1u << 1,    // the chosen policy: its run, outcomes, per-expert counters
  kAnalysisPolicies = 1u << 2,  // the compared policies and the bounds (with their check)
  kAnalysisCurves = 1u << 3,    // the one-pass LRU and OPT curves
  kAnalysisAll = (1u << 4) - 1,
};

struct CacheAnalysis {
  int64_t n_tokens = 0;  // routed tokens analysed
  uint64_t budget_slots = 0;
  uint32_t parts = 0;      // AnalysisPart bits filled so far
  CacheCapacity capacity;  // of the chosen policy
  PolicyRuns policies;     // the chosen policy first, then compared ones, then bounds

  // The chosen policy, per selection (aligned with RoutingTrace::selected).
  std::vector<AnalysisOutcome> outcome;
  std::vector<int64_t> key_accesses;     // [total experts] stream accesses of (l, e)
  std::vector<int64_t> key_hits;         // [total experts]
  std::vector<int64_t> resident_tokens;  // [total experts] tokens during which (l, e) was cached

  CurveSet lru_curves;
  CurveSet opt_curves;
  RoutingStats stats;
  // [n_layers - 1] P(e' at l+1 | e at l), row-major [n_experts[l]][n_experts[l+1]].
  std::vector<std::vector<double>> affinity;
  // [n_layers] P(j also selected | i selected) within one token, [n_experts][n_experts].
  std::vector<std::vector<double>> coactivation;

  const PolicyRun* chosen() const { return policies.empty() ? nullptr : &policies.front(); }
  bool has(AnalysisPart part) const { return (parts & part) != 0; }
  bool complete() const { return parts == kAnalysisAll; }
};

// Called after each part (CacheAnalysis::parts says which are there), the last time with the
// whole analysis; on the analysing thread.
using AnalysisProgress = std::function<void(const CacheAnalysis&)>;

// Prefill tokens per access-stream step: the generator's batch, so that the stream is the one
// the expert store saw.
inline constexpr int32_t kAnalysisPrefillChunk = 512;

// `trace` must be validated (its shape indexed). Never throws for a policy that fails: its
// PolicyRun carries the error. A next-gate prefetcher replays `gate_predictions` (what the engine
// predicted during the run); without them it predicts nothing. Fills `out` (other fields kept)
// part by part, calling `progress` (when set) after each.
void analyse_cache(const RoutingTrace& trace, const AnalysisRequest& request,
                   const GatePredictions* gate_predictions, CacheAnalysis& out,
                   const AnalysisProgress& progress = {});

}  // namespace moescope::policy
