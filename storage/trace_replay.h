#pragma once
// Replaying a recorded run's policy through the cache simulator, exactly as the live cache saw
// the run: one step per forward call and MoE layer (prefill chunks as they were run), the
// recorded capacity and timing model, the report's names. For a run whose live counters were
// recorded, the result equals TraceReader::policy_report.
#include <cstdint>
#include <span>

#include "engine/policy/access_stream.h"
#include "engine/policy/cache_counters.h"
#include "engine/policy/routing_trace.h"
#include "storage/trace_reader.h"

namespace moescope::storage {

// The access stream of `trace` with prefill split at the given forward-call starts (sorted
// first positions; decode tokens are one step each whatever the list says).
policy::AccessStream recorded_access_stream(const policy::RoutingTrace& trace,
                                            std::span<const int32_t> forward_calls);

// Replays policy `policy_id` of `run`. history: the earlier trace static-freq and fitted
// prefetchers were fitted on, when the policy needs one.
policy::CacheReport replay_recorded_policy(TraceReader& reader, int64_t run, int32_t policy_id,
                                           const policy::RoutingTrace* history = nullptr);

}  // namespace moescope::storage
