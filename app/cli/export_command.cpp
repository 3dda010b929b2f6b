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

}  // namespace

int run_export(const QStringList& args) {
  QCommandLineParser parser;
  parser.setApplicationDescription(
      "Export one run of a trace: csv (one table per file), json (one document with the whole "
      "run) or perfetto (Chrome trace-event JSON: open it at ui.perfetto.dev or in "
      "chrome://tracing).");
  parser.addHelpOption();
  add_trace_options(parser, {.run = true, .json = false});
  const QCommandLineOption format_option("format", "csv, json or perfetto.", "FORMAT");
  const QCommandLineOption out_option({"o", "out"}, "The file to write.", "PATH");
  const QCommandLineOption table_option(
      "table",
      "csv: the table (tokens, routing, events, layers, policies, policy-tokens; default "
      "routing).",
      "NAME", "routing");
  const QCommandLineOption from_option(
      "from", "Only positions from POS on (perfetto: forward calls starting there).", "POS");
  const QCommandLineOption to_option("to", "Only positions before POS.", "POS");
  const QCommandLineOption no_misses_option(
      "no-misses", "perfetto: no instant events for the misses (a smaller file).");
  parser.addOptions(
      {format_option, out_option, table_option, from_option, to_option, no_misses_option});
  if (auto code = parse_command_line(parser, args)) return *code;

  if (!parser.positionalArguments().isEmpty()) {
    print_error(QString("export: unexpected argument '%1'").arg(parser.positionalArguments()[0]));
    return kUsage;
  }
  const QString format_name = parser.value(format_option);
  const auto format = storage::parse_export_format(format_name.toStdString());
  if (!format) {
    print_error(QString("export: --format must be one of %1, got '%2'")
                    .arg(choices(storage::export_format_names()), format_name));
    return kUsage;
  }
  const QString table_name = parser.value(table_option);
  const auto table = storage::parse_csv_table(table_name.toStdString());
  if (!table) {
    print_error(QString("export: --table must be one of %1, got '%2'")
                    .arg(choices(storage::csv_table_names()), table_name));
    return kUsage;
  }
  if (parser.isSet(table_option) && *format != storage::ExportFormat::kCsv) {
    print_error("export: --table applies to --format csv only");
    return kUsage;
  }
  storage::TokenRange positions;
  for (const auto& [option, bound] :
       {std::pair{&from_option, &positions.begin}, std::pair{&to_option, &positions.end}}) {
    if (!parser.isSet(*option)) continue;
    bool ok = false;
    const int value = parser.value(*option).toInt(&ok);
    if (!ok || value < 0) {
      print_error(QString("export: --%1 expects a position (0 or more), got '%2'")
                      .arg(option->names().first(), parser.value(*option)));
      return kUsage;
    }
    *bound = value;
  }
  if (positions.begin >= positions.end) {
    print_error("export: --from must be before --to");
    return kUsage;
  }
  if (parser.isSet(no_misses_option) && *format != storage::ExportFormat::kPerfetto) {
    print_error("export: --no-misses applies to --format perfetto only");
    return kUsage;
  }
  if (!parser.isSet(out_option) || parser.value(out_option).isEmpty()) {
    print_error("export: --out PATH is required");
    return kUsage;
  }
  const std::filesystem::path out_path = parser.value(out_option).toLocal8Bit().toStdString();
  {
    std::error_code ec;
    const std::filesystem::path trace_path = parser.value("trace").toLocal8Bit().toStdString();
    if (!trace_path.empty() && std::filesystem::equivalent(out_path, trace_path, ec)) {
      print_error("export: --out is the trace itself; choose another file");
      return kUsage;
    }
  }

  try {
    const auto t0 = std::chrono::steady_clock::now();
    OpenedTrace trace = open_trace(parser, {.run = true, .json = false});
    OutputFile out(out_path);
    Progress progress("exporting", 0, trace.quiet);
    storage::ExportOptions options;
    options.format = *format;
    options.table = *table;
    options.positions = positions;
    options.perfetto_misses = !parser.isSet(no_misses_option);
    options.progress = [&](int64_t done, int64_t total) {
      progress.set_total(total);
      progress.update(done);
    };
    storage::ExportStats stats;
    {
      std::ofstream file(out.temporary(), std::ios::binary | std::ios::trunc);
      if (!file) fail("{}: cannot write: {}", out_path.string(), std::strerror(errno));
      stats = storage::export_run(*trace.reader, trace.run, options, file);
      file.close();
      if (!file) fail("{}: cannot write: {}", out_path.string(), std::strerror(errno));
    }
    out.commit();
    progress.finish();
    if (!trace.quiet) {
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      const char* what = *format == storage::ExportFormat::kCsv    ? "rows"
                         : *format == storage::ExportFormat::kJson ? "tokens"
                                                                   : "trace events";
      std::string kind = format_name.toStdString();
      if (*format == storage::ExportFormat::kCsv) {
        kind += ' ';
        kind += storage::csv_table_name(*table);
      }
      std::printf("%s: run %lld, %s, %lld %s, %.1f MiB, %.2f s\n", out_path.string().c_str(),
                  static_cast<long long>(trace.run), kind.c_str(),
                  static_cast<long long>(stats.records), what,
                  double(stats.bytes) / (1024.0 * 1024.0), seconds);
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
