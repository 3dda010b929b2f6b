#pragma once
// Traces without a model: a policy::RoutingTrace (e.g. policy::synthetic_trace) played through a
// TraceObserver exactly as Model::forward reports routing, for benchmarks, demos and the GUI's
// large-trace tests.
#include <cstdint>
#include <filesystem>
#include <string>

#include "engine/policy/routing_trace.h"
#include "engine/policy/synthetic_trace.h"
#include "storage/trace_writer.h"

namespace moescope::storage {

// Plays `trace` into the writer's current run: prefill in forward calls of `prefill_chunk` tokens
// (0: one call), decode one token per call. Token ids from trace.token_id (or the position), the
// text "<id>"; router logits log(weight) for the selected experts and -30 for the others.
void play_routing_trace(TraceWriter& writer, const policy::RoutingTrace& trace,
                        int32_t prefill_chunk = 512);

struct SyntheticRecording {
  policy::SyntheticSpec spec;
  int32_t prefill_chunk = 512;
  // The primary policy the writer simulates (cache events, routing outcomes, counters); empty for
  // none.
  std::string policy = "lru";
  int32_t slots_per_layer = 2;  // a -global policy gets slots_per_layer x layers
  WriterOptions writer;
};

// Writes one complete run of a synthetic trace into `path` (appending to an existing trace);
// returns the run id.
int64_t write_synthetic_trace(const std::filesystem::path& path, const SyntheticRecording& what);

}  // namespace moescope::storage
