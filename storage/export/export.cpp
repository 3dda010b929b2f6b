#include "storage/export/export.h"

#include <array>

#include "storage/export/csv_export.h"
#include "storage/export/json_export.h"
#include "storage/export/perfetto_export.h"

namespace moescope::storage {
namespace {

constexpr std::array<std::string_view, 3> kFormats = {"csv", "json", "perfetto"};
constexpr std::array<std::string_view, 6> kTables = {"tokens", "routing",  "events",
                                                     "layers", "policies", "policy-tokens"};

}  // namespace

std::span<const std::string_view> export_format_names() {
  return kFormats;
}

std::optional<ExportFormat> parse_export_format(std::string_view name) {
  for (size_t i = 0; i < kFormats.size(); ++i) {
    if (name == kFormats[i]) return ExportFormat(i);
  }
  return std::nullopt;
}

std::span<const std::string_view> csv_table_names() {
  return kTables;
}

std::optional<CsvTable> parse_csv_table(std::string_view name) {
  for (size_t i = 0; i < kTables.size(); ++i) {
    if (name == kTables[i]) return CsvTable(i);
  }
  return std::nullopt;
}

std::string_view csv_table_name(CsvTable table) {
  return kTables[size_t(table)];
}

ExportStats export_run(TraceReader& reader, int64_t run, const ExportOptions& options,
                       std::ostream& out) {
  reader.check_run(run);
  switch (options.format) {
    case ExportFormat::kCsv:
      return write_csv(reader, run, options.table, options, out);
    case ExportFormat::kJson:
      return write_json(reader, run, options, out);
    case ExportFormat::kPerfetto:
      return write_perfetto(reader, run, options, out);
  }
  return {};
}

}  // namespace moescope::storage
