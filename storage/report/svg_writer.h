#pragma once
// A minimal SVG 1.1 builder for the report's charts: only elements and presentation attributes
// that both browsers and QSvgRenderer (SVG Tiny 1.2) draw alike, so the HTML and the PDF show the
// same pictures. Every text and tooltip goes through xml_escape.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace moescope::storage::report {

struct Point {
  double x = 0;
  double y = 0;
};

enum class Anchor { kStart, kMiddle, kEnd };

struct TextStyle {
  double size = 11;
  Anchor anchor = Anchor::kStart;
  std::string_view fill = "#222";
  bool bold = false;
  double rotate = 0;  // degrees about (x, y)
};

class Svg {
 public:
  Svg(double width, double height);

  double width() const { return width_; }
  double height() const { return height_; }

  // tooltip: a <title> child (shown on hover in a browser; ignored by the PDF).
  void rect(double x, double y, double w, double h, std::string_view fill,
            std::string_view tooltip = {}, std::string_view stroke = {}, std::string_view cls = {});
  void line(double x1, double y1, double x2, double y2, std::string_view stroke, double width = 1,
            bool dashed = false);
  void polyline(const std::vector<Point>& points, std::string_view stroke, double width = 1.5,
                bool dashed = false);
  void text(double x, double y, std::string_view text, const TextStyle& style = {});

  // The finished <svg> element, without a namespace URL (inline SVG in HTML needs none, and the
  // report holds no URL at all); the PDF writer adds it for QSvgRenderer.
  std::string str() const;

 private:
  double width_;
  double height_;
  std::string body_;
};

// "12.5" with at most `decimals` decimals, no trailing zeros (SVG coordinates).
std::string num(double v, int decimals = 2);

}  // namespace moescope::storage::report
