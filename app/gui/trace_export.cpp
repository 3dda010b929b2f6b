#include "app/gui/trace_export.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <functional>
#include <fstream>

#include "app/cli/output_file.h"
#include "engine/common/error.h"
#include "storage/export/export.h"
#include "storage/report/html_report.h"
#include "storage/report/pdf/pdf_report.h"
#include "storage/report/report_document.h"
#include "storage/report/report_model.h"
#include "storage/trace_reader.h"

namespace moescope::gui {
namespace {

std::filesystem::path fs_path(const QString& path) {
  return std::filesystem::path(path.toLocal8Bit().toStdString());
}

void write_stream(const std::filesystem::path& path, const std::filesystem::path& shown,
                  const std::function<void(std::ostream&)>& write) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  if (!file) fail("{}: cannot write: {}", shown.string(), std::strerror(errno));
  write(file);
  file.close();
  if (!file) fail("{}: cannot write: {}", shown.string(), std::strerror(errno));
}

}  // namespace

QList<TraceExportKind> trace_export_kinds() {
  QList<TraceExportKind> out;
  for (std::string_view table : storage::csv_table_names()) {
    out.append(TraceExportKind{QStringLiteral("csv:%1").arg(QString::fromUtf8(table.data(), qsizetype(table.size()))),
                QStringLiteral(".csv")});
  }
  out.append(TraceExportKind{"json", ".json"});
  out.append(TraceExportKind{"perfetto", ".json"});
  out.append(TraceExportKind{"html", ".html"});
  out.append(TraceExportKind{"pdf", ".pdf"});
  return out;
}

void write_trace_export(const QString& trace, int64_t run, const QString& kind,
                        const QString& out) {
  const std::filesystem::path trace_path = fs_path(trace);
  const std::filesystem::path out_path = fs_path(out);
  std::error_code ec;
  if (std::filesystem::equivalent(out_path, trace_path, ec)) {
    fail("{}: this is the trace itself; choose another file", out_path.string());
  }
  storage::TraceReader reader(trace_path);
  cli::OutputFile file(out_path);
  if (kind == "html" || kind == "pdf") {
    const storage::report::ReportDocument document =
        storage::report::build_document(storage::report::gather_report(reader, run));
    if (kind == "pdf") {
      storage::report::write_pdf(document, file.temporary());
    } else {
      const std::string html = storage::report::write_html(document);
      write_stream(file.temporary(), out_path,
                   [&](std::ostream& os) { os.write(html.data(), std::streamsize(html.size())); });
    }
  } else {
    storage::ExportOptions options;
    if (kind.startsWith("csv:")) {
      const auto table = storage::parse_csv_table(kind.mid(4).toStdString());
      if (!table) fail("unknown CSV table {}", kind.mid(4).toStdString());
      options.format = storage::ExportFormat::kCsv;
      options.table = *table;
    } else {
      const auto format = storage::parse_export_format(kind.toStdString());
      if (!format) fail("unknown export format {}", kind.toStdString());
      options.format = *format;
    }
    write_stream(file.temporary(), out_path,
                 [&](std::ostream& os) { storage::export_run(reader, run, options, os); });
  }
  file.commit();
}

}  // namespace moescope::gui
