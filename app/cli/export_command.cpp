// `moescope export --trace FILE [--run ID] --format csv|json|perfetto --out PATH [--table NAME]
// [--from POS] [--to POS] [--no-misses] [--quiet]`: one run of a trace for other tools
// (storage/export/export.h). The file appears only when the export succeeds (OutputFile): a
// failure leaves nothing behind.
#include <QCommandLineParser>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>

#include "app/cli/command.h"
#include "app/cli/commands.h"
#include "app/cli/output_file.h"
#include "app/cli/progress.h"
#include "app/cli/trace_options.h"
#include "engine/common/error.h"
#include "storage/export/export.h"

namespace moescope::cli {
namespace {

QString choices(std::span<const std::string_view> names) {
  QStringList out;
  for (std::string_view n : names) out << QString::fromUtf8(n.data(), qsizetype(n.size()));
  return out.join(", ");
}

// The command's own options (the trace options come from trace_options.h).
struct ExportCliOptions {
  QCommandLineOption format{"format", "csv, json or perfetto.", "FORMAT"};
  QCommandLineOption out{{"o", "out"}, "The file to write.", "PATH"};
  QCommandLineOption table{
      "table",
      "csv: the table (tokens, routing, events, layers, policies, policy-tokens; default "
      "routing).",
      "NAME", "routing"};
  QCommandLineOption from{
      "from", "Only positions from POS on (perfetto: forward calls starting there).", "POS"};
  QCommandLineOption to{"to", "Only positions before POS.", "POS"};
  QCommandLineOption no_misses{"no-misses",
                               "perfetto: no instant events for the misses (a smaller file)."};
};

// What to export and where, checked before the trace is opened.
struct ExportRequest {
  QString format_name;
  storage::ExportOptions options;
  std::filesystem::path out_path;
};

// The request, or nullopt after printing the usage error.
std::optional<ExportRequest> parse_export_request(const QCommandLineParser& parser,
                                                  const ExportCliOptions& o) {
  if (!parser.positionalArguments().isEmpty()) {
    print_error(QString("export: unexpected argument '%1'").arg(parser.positionalArguments()[0]));
    return std::nullopt;
  }
  ExportRequest request;
  request.format_name = parser.value(o.format);
  const auto format = storage::parse_export_format(request.format_name.toStdString());
  if (!format) {
    print_error(QString("export: --format must be one of %1, got '%2'")
                    .arg(choices(storage::export_format_names()), request.format_name));
    return std::nullopt;
  }
  const QString table_name = parser.value(o.table);
  const auto table = storage::parse_csv_table(table_name.toStdString());
  if (!table) {
    print_error(QString("export: --table must be one of %1, got '%2'")
                    .arg(choices(storage::csv_table_names()), table_name));
    return std::nullopt;
  }
  if (parser.isSet(o.table) && *format != storage::ExportFormat::kCsv) {
    print_error("export: --table applies to --format csv only");
    return std::nullopt;
  }
  storage::TokenRange positions;
  for (const auto& [option, bound] :
       {std::pair{&o.from, &positions.begin}, std::pair{&o.to, &positions.end}}) {
    if (!parser.isSet(*option)) continue;
    bool ok = false;
    const int value = parser.value(*option).toInt(&ok);
    if (!ok || value < 0) {
      print_error(QString("export: --%1 expects a position (0 or more), got '%2'")
                      .arg(option->names().first(), parser.value(*option)));
      return std::nullopt;
    }
    *bound = value;
  }
  if (positions.begin >= positions.end) {
    print_error("export: --from must be before --to");
    return std::nullopt;
  }
  if (parser.isSet(o.no_misses) && *format != storage::ExportFormat::kPerfetto) {
    print_error("export: --no-misses applies to --format perfetto only");
    return std::nullopt;
  }
  if (!parser.isSet(o.out) || parser.value(o.out).isEmpty()) {
    print_error("export: --out PATH is required");
    return std::nullopt;
  }
  request.out_path = parser.value(o.out).toLocal8Bit().toStdString();
  {
    std::error_code ec;
    const std::filesystem::path trace_path = parser.value("trace").toLocal8Bit().toStdString();
    if (!trace_path.empty() && std::filesystem::equivalent(request.out_path, trace_path, ec)) {
      print_error("export: --out is the trace itself; choose another file");
      return std::nullopt;
    }
  }
  request.options.format = *format;
  request.options.table = *table;
  request.options.positions = positions;
  request.options.perfetto_misses = !parser.isSet(o.no_misses);
  return request;
}

// Writes the export to a temporary file beside the destination and renames it when complete.
storage::ExportStats write_export(const OpenedTrace& trace, const ExportRequest& request,
                                  storage::ExportOptions options) {
  OutputFile out(request.out_path);
  Progress progress("exporting", 0, trace.quiet);
  options.progress = [&](int64_t done, int64_t total) {
    progress.set_total(total);
    progress.update(done);
  };
  storage::ExportStats stats;
  {
    std::ofstream file(out.temporary(), std::ios::binary | std::ios::trunc);
    if (!file) fail("{}: cannot write: {}", request.out_path.string(), std::strerror(errno));
    stats = storage::export_run(*trace.reader, trace.run, options, file);
    file.close();
    if (!file) fail("{}: cannot write: {}", request.out_path.string(), std::strerror(errno));
  }
  out.commit();
  progress.finish();
  return stats;
}

void print_export_summary(const ExportRequest& request, int64_t run,
                          const storage::ExportStats& stats, double seconds) {
  const storage::ExportFormat format = request.options.format;
  const char* what = format == storage::ExportFormat::kCsv    ? "rows"
                     : format == storage::ExportFormat::kJson ? "tokens"
                                                              : "trace events";
  std::string kind = request.format_name.toStdString();
  if (format == storage::ExportFormat::kCsv) {
    kind += ' ';
    kind += storage::csv_table_name(request.options.table);
  }
  std::printf("%s: run %lld, %s, %lld %s, %.1f MiB, %.2f s\n", request.out_path.string().c_str(),
              static_cast<long long>(run), kind.c_str(), static_cast<long long>(stats.records),
              what, double(stats.bytes) / (1024.0 * 1024.0), seconds);
}

}  // namespace

int run_export(const QStringList& args) {
  QCommandLineParser parser;
  parser.setApplicationDescription(
      "Export one run of a trace: csv (one table per file), json (one document with the whole "
      "run) or perfetto (Chrome trace-event JSON: open it at ui.perfetto.dev or in "
      "chrome://tracing).");
  parser.addHelpOption();
  add_trace_options(parser, {.run = true, .json = false});
  const ExportCliOptions o;
  parser.addOptions({o.format, o.out, o.table, o.from, o.to, o.no_misses});
  if (auto code = parse_command_line(parser, args)) return *code;
  const std::optional<ExportRequest> request = parse_export_request(parser, o);
  if (!request) return kUsage;

  try {
    const auto t0 = std::chrono::steady_clock::now();
    OpenedTrace trace = open_trace(parser, {.run = true, .json = false});
    const storage::ExportStats stats = write_export(trace, *request, request->options);
    if (!trace.quiet) {
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      print_export_summary(*request, trace.run, stats, seconds);
    }
    return kSuccess;
  } catch (const Error& e) {
    print_error(QString("export: %1").arg(QString::fromUtf8(e.what())));
    return trace_usage_error(parser) ? kUsage : kFailure;
  } catch (const std::exception& e) {
    print_error(QString("export: %1").arg(QString::fromUtf8(e.what())));
    return kFailure;
  }
}

}  // namespace moescope::cli
