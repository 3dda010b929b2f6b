#pragma once
// Exports one run of a trace for other tools (docs/trace-format.md, "Exporting"):
//   csv       one table per file (tokens, routing, events, layers, policies, policy-tokens)
//   json      one document with everything the run holds
//   perfetto  Chrome trace-event JSON (ui.perfetto.dev, chrome://tracing): a track per MoE layer
//             with compute and stall slices, a tokens track, cache occupancy and hit-rate counters
// The writers read the run a chunk of positions at a time and stream to an std::ostream, so a
// 100k-token run never needs its whole output (or all its routing) in memory.
#include <cstdint>
#include <functional>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <string_view>

#include "storage/trace_reader.h"

namespace moescope::storage {

enum class ExportFormat : uint8_t { kCsv, kJson, kPerfetto };
std::span<const std::string_view> export_format_names();
std::optional<ExportFormat> parse_export_format(std::string_view name);

enum class CsvTable : uint8_t { kTokens, kRouting, kEvents, kLayers, kPolicies, kPolicyTokens };
std::span<const std::string_view> csv_table_names();
std::optional<CsvTable> parse_csv_table(std::string_view name);
std::string_view csv_table_name(CsvTable table);

// Positions done of the total (for a progress bar).
using ExportProgress = std::function<void(int64_t done, int64_t total)>;

struct ExportOptions {
  ExportFormat format = ExportFormat::kCsv;
  CsvTable table = CsvTable::kRouting;  // csv only
  int32_t chunk_tokens = 4096;          // positions read per step
  bool perfetto_misses = true;          // instant events for the misses of each layer and call
  // Only positions in this range (perfetto: the forward calls starting in it). Running values
  // (cache occupancy, cumulative hit rate) still count everything before it.
  TokenRange positions;
  ExportProgress progress;
};

struct ExportStats {
  int64_t records = 0;  // csv: data rows; json: tokens; perfetto: trace events
  uint64_t bytes = 0;
};

// Throws moescope::Error for a damaged trace, an unknown run or a failing stream.
ExportStats export_run(TraceReader& reader, int64_t run, const ExportOptions& options,
                       std::ostream& out);

}  // namespace moescope::storage
