#pragma once
// Replaying a recorded run's policy through the cache simulator, exactly as the live cache saw
// the run: one step per forward call and MoE layer (prefill chunks as they were run), the
// recorded capacity and timing model, the report's names. For a run whose live counters were
// recorded, the result equals TraceReader::policy_report.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "engine/policy/access_stream.h"
#include "engine/policy/cache_counters.h"
#include "engine/policy/policy_factory.h"
#include "engine/policy/routing_trace.h"
#include "storage/trace_reader.h"

namespace moescope::storage {

// The access stream of `trace` with prefill split at the given forward-call starts (sorted
// first positions; decode tokens are one step each whatever the list says).
policy::AccessStream recorded_access_stream(const policy::RoutingTrace& trace,
                                            std::span<const int32_t> forward_calls);

// The run's routing for replaying `specs`: with the router probabilities (from the recorded
// router logits) when one of them scores them (mrs) and the run recorded the logits.
// *probs_missing (optional) is set when a policy needs them and the run has none.
policy::RoutingTrace routing_for_replay(TraceReader& reader, int64_t run, ComputeSource compute,
                                        const std::vector<policy::PolicySpec>& specs,
                                        bool* probs_missing = nullptr);

// Why a replay of policy `d` may differ from its recorded counters, when the cause is specific to
// the policy (mrs without recorded router logits); "" when it is not (the caller then names the
// run-level cause: interrupted, another version, or damage).
std::string replay_mismatch_cause(TraceReader& reader, int64_t run, const PolicyDescription& d);

// Replays policy `policy_id` of `run` (with the router probabilities when it needs them).
// history: the earlier trace static-freq and fitted prefetchers were fitted on, when the policy
// needs one.
policy::CacheReport replay_recorded_policy(TraceReader& reader, int64_t run, int32_t policy_id,
                                           const policy::RoutingTrace* history = nullptr);

}  // namespace moescope::storage
