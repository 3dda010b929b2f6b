#pragma once
// File → Export: the run on show, from its trace, through the same code as `moescope export` and
// `moescope report` (storage/export, storage/report): CSV tables, JSON, Perfetto, the HTML or
// PDF report. The output appears only when complete (temporary file + rename).
#include <QList>
#include <QString>

#include <cstdint>

namespace moescope::gui {

struct TraceExportKind {
  QString id;      // "csv:routing", "json", "perfetto", "html", "pdf"
  QString suffix;  // ".csv", ...
};
// Every kind File → Export offers, in menu order.
QList<TraceExportKind> trace_export_kinds();

// Writes run `run` of `trace` to `out` as `kind`. Throws moescope::Error naming the file and the
// problem. PDF needs a QGuiApplication (fonts) and runs on its thread.
void write_trace_export(const QString& trace, int64_t run, const QString& kind,
                        const QString& out);

}  // namespace moescope::gui
