#include "storage/report/svg_writer.h"

#include <fmt/format.h>

#include <cmath>

#include "storage/report/escape.h"

namespace moescope::storage::report {

std::string num(double v, int decimals) {
  if (!std::isfinite(v)) return "0";
  std::string s = fmt::format("{:.{}f}", v, decimals);
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  if (s == "-0") s = "0";
  return s;
}

Svg::Svg(double width, double height) : width_(width), height_(height) {}

void Svg::rect(double x, double y, double w, double h, std::string_view fill,
               std::string_view tooltip, std::string_view stroke, std::string_view cls) {
  body_ += fmt::format(R"(<rect x="{}" y="{}" width="{}" height="{}" fill="{}")", num(x), num(y),
                       num(w), num(h), xml_escape(fill));
  if (!stroke.empty()) body_ += fmt::format(R"( stroke="{}" stroke-width="1")", xml_escape(stroke));
  if (!cls.empty()) body_ += fmt::format(R"( class="{}")", xml_escape(cls));
  if (tooltip.empty()) {
    body_ += "/>";
  } else {
    body_ += "><title>";
    append_escaped(body_, tooltip);
    body_ += "</title></rect>";
  }
  body_ += '\n';
}

void Svg::line(double x1, double y1, double x2, double y2, std::string_view stroke, double width,
               bool dashed) {
  body_ += fmt::format(R"(<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-width="{}")",
                       num(x1), num(y1), num(x2), num(y2), xml_escape(stroke), num(width));
  if (dashed) body_ += R"( stroke-dasharray="5,3")";
  body_ += "/>\n";
}

void Svg::polyline(const std::vector<Point>& points, std::string_view stroke, double width,
                   bool dashed) {
  if (points.empty()) return;
  body_ += R"(<polyline fill="none" points=")";
  for (size_t i = 0; i < points.size(); ++i) {
    if (i) body_ += ' ';
    body_ += num(points[i].x, 1);
    body_ += ',';
    body_ += num(points[i].y, 1);
  }
  body_ += fmt::format(R"(" stroke="{}" stroke-width="{}" stroke-linejoin="round")",
                       xml_escape(stroke), num(width));
  if (dashed) body_ += R"( stroke-dasharray="6,3")";
  body_ += "/>\n";
}

void Svg::text(double x, double y, std::string_view text, const TextStyle& style) {
  static constexpr const char* kAnchors[] = {"start", "middle", "end"};
  body_ += fmt::format(
      R"(<text x="{}" y="{}" font-family="DejaVu Sans, Arial, sans-serif" font-size="{}" )"
      R"(fill="{}" text-anchor="{}")",
      num(x), num(y), num(style.size), xml_escape(style.fill), kAnchors[int(style.anchor)]);
  if (style.bold) body_ += R"( font-weight="bold")";
  if (style.rotate != 0) {
    body_ += fmt::format(" transform=\"rotate({} {} {})\"", num(style.rotate), num(x), num(y));
  }
  body_ += '>';
  append_escaped(body_, text);
  body_ += "</text>\n";
}

std::string Svg::str() const {
  std::string out = fmt::format(R"(<svg version="1.1" width="{}" height="{}" )"
                                R"(viewBox="0 0 {} {}">)",
                                num(width_), num(height_), num(width_), num(height_));
  out += '\n';
  out += body_;
  out += "</svg>";
  return out;
}

}  // namespace moescope::storage::report
