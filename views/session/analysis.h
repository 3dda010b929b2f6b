#pragma once
// The GUI's side of the cache analysis (engine/policy/cache_analysis.h, Qt-free): the settings
// panel's choices turned into an analysis request, and the result kept with the settings it was
// made with. The analysis scheduler calls analyse() on its worker thread.
#include <cstdint>
#include <functional>
#include <memory>

#include "engine/policy/cache_analysis.h"
#include "views/session/run_data.h"
#include "views/session/run_settings.h"

namespace moescope::views {

using AccessOutcome = policy::AnalysisOutcome;
using PolicyRun = policy::PolicyRun;

struct AnalysisResult : policy::CacheAnalysis {
  CacheSettings settings;  // what the analysis was asked for
};

inline constexpr int32_t kPrefillChunk = policy::kAnalysisPrefillChunk;

// The request of a run's cache settings over a model of `shape`.
policy::AnalysisRequest analysis_request(const CacheSettings& settings,
                                         const policy::MoeShape& shape);

// Receives the analysis so far (a copy sharing the policy runs) before it is complete.
using PartialAnalysis = std::function<void(std::shared_ptr<const AnalysisResult>)>;

// `trace` must be validated (its shape indexed). Never throws for a policy that fails: its
// PolicyRun carries the error. A next-gate prefetcher replays `gate_predictions` (what the engine
// predicted during the run); without them it predicts nothing. `partial` (when set) gets each
// incomplete stage (policy::AnalysisPart), so views can show the first parts while the rest runs.
std::shared_ptr<AnalysisResult> analyse(const policy::RoutingTrace& trace,
                                        const CacheSettings& settings,
                                        const GatePredictions* gate_predictions = nullptr,
                                        const PartialAnalysis& partial = {});

}  // namespace moescope::views
