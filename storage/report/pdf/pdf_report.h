#pragma once
// The report as a PDF: the same ReportDocument the HTML writer uses, laid out on A4 pages with
// Qt's PDF writer (QPdfWriter). HTML blocks are drawn by QTextDocument, SVG charts by
// QSvgRenderer from the very SVG strings the HTML holds, so both carry the same content.
//
// Lives apart from moescope_report because it needs QtGui and QtSvg (no widgets); the caller must
// have created a QGuiApplication (fonts), e.g. on the "offscreen" platform without a display.
#include <filesystem>
#include <string>

#include "storage/report/report_document.h"

namespace moescope::storage::report {

// The PDF's bytes. Throws moescope::Error when a chart does not parse.
std::string render_pdf(const ReportDocument& document);
// Writes `document` to `path` (replaced only when the whole file is written: AtomicFile).
// Throws moescope::Error when the file cannot be written or a chart does not parse.
void write_pdf(const ReportDocument& document, const std::filesystem::path& path);

}  // namespace moescope::storage::report
