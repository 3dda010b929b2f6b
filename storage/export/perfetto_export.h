#pragma once
// A run as Chrome trace-event JSON ({"traceEvents": [...]}), which ui.perfetto.dev and
// chrome://tracing open. One process for the run; threads (tracks):
//   "tokens"               a slice per forward call: the token's text (decode) or
//                          "prefill N tokens"
//   "layer L (block B)"    per MoE layer and forward call a "stall" then a "compute" slice (the
//                          layer_timings interval: from its routing to the next layer's), and
//                          an instant event naming the experts that missed the cache
// and counters: "cache occupancy" (resident expert bytes of the primary cache: loads add,
// evictions subtract, sampled at the end of each call) and "hit rate" (cumulative, primary
// policy). Times are microseconds with three decimals, exact to the nanosecond.
#include <ostream>

#include "storage/export/export.h"

namespace moescope::storage {

ExportStats write_perfetto(TraceReader& reader, int64_t run, const ExportOptions& options,
                           std::ostream& out);

// The bytes a policy's capacity lets the cache hold (a slot budget counts the largest expert).
uint64_t capacity_bytes(const policy::CacheCapacity& capacity, const policy::MoeShape& shape);

}  // namespace moescope::storage
