#include "storage/report/html_report.h"

#include "storage/report/escape.h"

namespace moescope::storage::report {

const std::string& report_css() {
  static const std::string css =
      R"(body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 13px; color: #222; }
h1 { font-size: 22px; margin: 0 0 4px 0; }
h2 { font-size: 17px; margin: 22px 0 8px 0; border-bottom: 1px solid #ccc; padding-bottom: 3px; }
h3 { font-size: 14px; margin: 14px 0 6px 0; }
table.kv th { text-align: left; font-weight: normal; color: #555; padding-right: 14px; vertical-align: top; }
table.kv td { font-family: "DejaVu Sans Mono", monospace; font-size: 12px; }
table.grid { border-collapse: collapse; }
table.grid th { background-color: #eeeeee; border: 1px solid #cccccc; font-weight: bold; }
table.grid td { border: 1px solid #dddddd; }
td.card { background-color: #f3f6fa; border: 1px solid #d5dde8; text-align: center; }
span.big { font-size: 20px; font-weight: bold; }
span.small { font-size: 11px; color: #555; }
p.note { color: #555; font-size: 12px; }
p.prompt { font-family: "DejaVu Sans Mono", monospace; white-space: pre-wrap; background-color: #f7f7f7; }
span.swatch { border: 1px solid #999; font-size: 11px; }
div.tokens { font-family: "DejaVu Sans Mono", monospace; font-size: 12px; white-space: pre-wrap; line-height: 1.6; }
span.p { text-decoration: underline; }
)";
  return css;
}

std::string write_html(const ReportDocument& doc) {
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>";
  append_escaped(out, doc.title);
  out += "</title>\n<style>\n";
  out += report_css();
  out +=
      "main { max-width: 1180px; margin: 16px auto; padding: 0 16px; }\n"
      "nav a { margin-right: 12px; color: #1f5fa8; text-decoration: none; }\n"
      "figure { display: inline-block; vertical-align: top; margin: 8px 28px 14px 0; }\n"
      "td.card { min-width: 130px; }\n"
      "table.key { border-collapse: separate; }\n"
      "</style>\n</head>\n<body>\n<main>\n<h1>";
  append_escaped(out, doc.title);
  out += "</h1>\n<nav>";
  for (const ReportSection& s : doc.sections) {
    out += "<a href=\"#";
    append_escaped(out, s.id);
    out += "\">";
    append_escaped(out, s.title);
    out += "</a>";
  }
  out += "</nav>\n";
  for (const ReportSection& s : doc.sections) {
    out += "<section id=\"";
    append_escaped(out, s.id);
    out += "\">\n<h2>";
    append_escaped(out, s.title);
    out += "</h2>\n";
    for (const ReportBlock& b : s.blocks) {
      if (b.kind == ReportBlock::Kind::kSvg) {
        out += "<figure>\n" + b.content + "\n</figure>\n";
      } else {
        out += b.content;
      }
    }
    out += "</section>\n";
  }
  out += "</main>\n</body>\n</html>\n";
  return out;
}

}  // namespace moescope::storage::report
