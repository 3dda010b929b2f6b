#pragma once
// The report as a sequence of sections made of blocks: HTML fragments (tables, text; only the
// HTML subset Qt's QTextDocument also renders) and SVG charts. The HTML writer concatenates them;
// the PDF writer lays the same blocks out on pages, so both hold the same content.
#include <string>
#include <vector>

#include "storage/report/report_model.h"

namespace moescope::storage::report {

struct ReportBlock {
  enum class Kind { kHtml, kSvg };
  Kind kind = Kind::kHtml;
  std::string content;  // an HTML fragment, or an <svg> element
  double width = 0;     // SVG size in CSS px
  double height = 0;
};

struct ReportSection {
  std::string id;     // HTML anchor
  std::string title;  // plain text
  std::vector<ReportBlock> blocks;
};

struct ReportDocument {
  std::string title;  // plain text
  std::vector<ReportSection> sections;
};

ReportDocument build_document(const ReportData& data);

}  // namespace moescope::storage::report
