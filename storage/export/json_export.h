#pragma once
// A run as one JSON document: run info (model, settings, machine, summary), MoE layers, prompts,
// tokens with their routing (per layer: experts, weights, logits, cache outcomes), layer timings,
// cache events, and the policies with their reports and per-token counters. Streamed a chunk of
// positions at a time. docs/trace-format.md ("Exporting") shows its layout.
#include <ostream>

#include "storage/export/export.h"

namespace moescope::storage {

ExportStats write_json(TraceReader& reader, int64_t run, const ExportOptions& options,
                       std::ostream& out);

}  // namespace moescope::storage
