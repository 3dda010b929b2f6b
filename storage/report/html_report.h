#pragma once
// The report as one self-contained HTML file: inline CSS and SVG, no script, no URL.
#include <string>

#include "storage/report/report_document.h"

namespace moescope::storage::report {

std::string write_html(const ReportDocument& document);

// The style sheet (also given to the PDF writer's QTextDocument, which reads a subset of it).
const std::string& report_css();

}  // namespace moescope::storage::report
