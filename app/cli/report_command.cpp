// `moescope report --trace FILE [--run ID] --out report.html|report.pdf [--quiet]`: one run of a
// trace as a self-contained HTML page (inline CSS and SVG) or a PDF with the same content
// (storage/report). The file appears only when the report is complete (OutputFile).
//
// The command is registered with Command::gui_application: main() gives it a QGuiApplication on
// the offscreen platform, which the PDF writer needs for fonts (no display is ever opened).
#include <QCommandLineParser>

#include <chrono>
#include <cstdio>

#include "app/cli/command.h"
#include "app/cli/commands.h"
#include "app/cli/output_file.h"
#include "app/cli/progress.h"
#include "app/cli/trace_options.h"
#include "engine/common/error.h"
#include "storage/report/html_report.h"
#include "storage/report/pdf/pdf_report.h"
#include "storage/report/report_document.h"
#include "storage/report/report_model.h"

namespace moescope::cli {

int run_report(const QStringList& args) {
  QCommandLineParser parser;
  parser.setApplicationDescription(
      "Write a report of one run of a trace: a self-contained HTML page (inline SVG charts, no "
      "script, no external file) or a PDF with the same content. It shows the run's model and "
      "settings, key numbers, layer x expert heatmaps, inter-layer affinity, hit-rate curves, "
      "every recorded policy, per-layer numbers and the text coloured by cache misses.");
  parser.addHelpOption();
  add_trace_options(parser, {.run = true, .json = false});
  const QCommandLineOption out_option({"o", "out"}, "The report to write: FILE.html or FILE.pdf.",
                                      "FILE");
  const QCommandLineOption tokens_option(
      "max-tokens", "Tokens shown in the coloured text (default 4000; the rest is counted).", "N",
      "4000");
  parser.addOptions({out_option, tokens_option});
  if (auto code = parse_command_line(parser, args)) return *code;

  if (!parser.positionalArguments().isEmpty()) {
    print_error(QString("report: unexpected argument '%1'").arg(parser.positionalArguments()[0]));
    return kUsage;
  }
  const QString out_name = parser.value(out_option);
  if (out_name.isEmpty()) {
    print_error("report: --out FILE.html or FILE.pdf is required");
    return kUsage;
  }
  const bool pdf = out_name.endsWith(".pdf", Qt::CaseInsensitive);
  if (!pdf && !out_name.endsWith(".html", Qt::CaseInsensitive)) {
    print_error(QString("report: --out must end in .html or .pdf, got '%1'").arg(out_name));
    return kUsage;
  }
  bool tokens_ok = false;
  const int max_tokens = parser.value(tokens_option).toInt(&tokens_ok);
  if (!tokens_ok || max_tokens < 0) {
    print_error(
        QString("report: --max-tokens must be a count, got '%1'").arg(parser.value(tokens_option)));
    return kUsage;
  }
  const std::filesystem::path out_path = out_name.toLocal8Bit().toStdString();

  try {
    const auto t0 = std::chrono::steady_clock::now();
    OpenedTrace trace = open_trace(parser, {.run = true, .json = false});
    OutputFile out(out_path);  // fails early on an unwritable path
    Progress progress("report", 3, trace.quiet);
    storage::report::ReportOptions options;
    options.max_text_tokens = max_tokens;
    const storage::report::ReportData data =
        storage::report::gather_report(*trace.reader, trace.run, options);
    progress.update(1);
    const storage::report::ReportDocument document = storage::report::build_document(data);
    progress.update(2);
    // Every write checked, then flushed and renamed: a full disk fails the command and keeps
    // an existing file.
    out.write(pdf ? storage::report::render_pdf(document) : storage::report::write_html(document));
    out.commit();
    progress.update(3);
    progress.finish();
    if (!trace.quiet) {
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::printf("%s: report of run %lld (%d tokens%s), %.2f s\n", out_path.string().c_str(),
                  static_cast<long long>(trace.run), data.total_tokens,
                  int32_t(data.tokens.size()) < data.total_tokens
                      ? (", text of the first " + std::to_string(data.tokens.size())).c_str()
                      : "",
                  seconds);
    }
    return kSuccess;
  } catch (const Error& e) {
    print_error(QString("report: %1").arg(QString::fromUtf8(e.what())));
    return trace_usage_error(parser) ? kUsage : kFailure;
  } catch (const std::exception& e) {
    print_error(QString("report: %1").arg(QString::fromUtf8(e.what())));
    return kFailure;
  }
}

}  // namespace moescope::cli
