#include "storage/report/svg_charts.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace moescope::storage::report {
namespace {

constexpr double kLegendWidth = 220;
constexpr double kLegendHeight = 40;

// A horizontal colour bar with its end values, at (x, y).
void draw_legend(Svg& svg, double x, double y, const ColorScale& scale) {
  constexpr int kSteps = 44;
  const double w = kLegendWidth / kSteps;
  for (int i = 0; i < kSteps; ++i) {
    svg.rect(x + i * w, y, w + 0.3, 10, color_at(scale.map, (i + 0.5) / kSteps));
  }
  svg.rect(x, y, kLegendWidth, 10, "none", {}, "#888");
  TextStyle small{.size = 10};
  svg.text(x, y + 22, fmt::format("{:.{}f}", scale.lo, scale.decimals), small);
  small.anchor = Anchor::kEnd;
  svg.text(x + kLegendWidth, y + 22, fmt::format("{:.{}f}", scale.hi, scale.decimals), small);
  small.anchor = Anchor::kMiddle;
  svg.text(x + kLegendWidth / 2, y + 22, scale.label, small);
}

void draw_cells(Svg& svg, const HeatGrid& grid, const ColorScale& scale, double x0, double y0,
                double cw, double ch) {
  for (int32_t r = 0; r < int32_t(grid.row_cells.size()); ++r) {
    for (int32_t c = 0; c < grid.row_cells[size_t(r)]; ++c) {
      const double v = grid.value(r, c);
      const std::string color =
          std::isnan(v) ? kNoDataColor : color_at(scale.map, scale.position(v));
      svg.rect(x0 + c * cw, y0 + r * ch, cw, ch, color, grid.tooltip ? grid.tooltip(r, c) : "", {},
               "cell");
    }
  }
}

int32_t max_cells(const HeatGrid& grid) {
  int32_t n = 0;
  for (int32_t c : grid.row_cells) n = std::max(n, c);
  return n;
}

// A "nice" tick step (1, 2, 2.5 or 5 times a power of ten) giving about `count` ticks.
double nice_step(double span, int count) {
  if (!(span > 0)) return 1;
  const double raw = span / count;
  const double p = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0}) {
    if (m * p >= raw) return m * p;
  }
  return 10 * p;
}

std::string tick_label(double v, double step, bool percent) {
  if (percent) v *= 100, step *= 100;
  const int decimals = step >= 1 ? 0 : int(std::ceil(-std::log10(step)));
  return fmt::format("{:.{}f}{}", v, decimals, percent ? " %" : "");
}

}  // namespace

std::string series_color(size_t n) {
  static constexpr const char* kColors[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                            "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
  return kColors[n % std::size(kColors)];
}

Chart heatmap_chart(const HeatGrid& grid, const ColorScale& scale, double max_width) {
  const int32_t rows = int32_t(grid.row_cells.size());
  const int32_t cols = std::max(1, max_cells(grid));
  constexpr double kLeft = 64, kTop = 24, kRight = 16;
  const double cw = std::clamp((max_width - kLeft - kRight) / cols, 2.0, 28.0);
  const double ch = rows <= 48 ? std::clamp(cw, 14.0, 28.0) : std::clamp(cw, 4.0, 14.0);
  const double grid_w = cw * cols, grid_h = ch * rows;
  // Wide enough for the title too (about 7 px a character at 12 px bold).
  const double title_w = 7.0 * double(grid.title.size());
  const double width = kLeft + std::max({grid_w, kLegendWidth, title_w}) + kRight;
  const double height = kTop + grid_h + 40 + kLegendHeight;
  Svg svg(width, height);
  if (!grid.title.empty()) svg.text(kLeft, 14, grid.title, {.size = 12, .bold = true});
  draw_cells(svg, grid, scale, kLeft, kTop, cw, ch);

  const int32_t row_step = std::max(1, int32_t(std::ceil(12.0 / ch)));
  for (int32_t r = 0; r < rows; r += row_step) {
    svg.text(kLeft - 6, kTop + (r + 0.5) * ch + 4, grid.row_labels[size_t(r)],
             {.size = 10, .anchor = Anchor::kEnd});
  }
  const int32_t col_step = std::max(1, int32_t(std::ceil(22.0 / cw)));
  for (int32_t c = 0; c < cols; c += col_step) {
    svg.text(kLeft + (c + 0.5) * cw, kTop + grid_h + 13, std::to_string(c),
             {.size = 10, .anchor = Anchor::kMiddle});
  }
  svg.text(kLeft + grid_w / 2, kTop + grid_h + 28, grid.x_title,
           {.size = 11, .anchor = Anchor::kMiddle});
  svg.text(14, kTop + grid_h / 2, grid.y_title,
           {.size = 11, .anchor = Anchor::kMiddle, .rotate = -90});
  draw_legend(svg, kLeft, kTop + grid_h + 38, scale);
  return {svg.str(), svg.width(), svg.height()};
}

Chart small_multiples_chart(const std::vector<HeatGrid>& grids, const ColorScale& scale,
                            double cell, double max_width) {
  int32_t max_rows = 1, max_cols = 1;
  for (const HeatGrid& g : grids) {
    max_rows = std::max(max_rows, int32_t(g.row_cells.size()));
    max_cols = std::max(max_cols, max_cells(g));
  }
  constexpr double kGap = 18, kTitle = 16;
  const double box_w = std::max(max_cols * cell, 70.0) + kGap;
  const double box_h = kTitle + max_rows * cell + kGap;
  const int32_t per_row = std::max(1, int32_t((max_width + kGap) / box_w));
  const int32_t n_rows = (int32_t(grids.size()) + per_row - 1) / per_row;
  const double width =
      std::max(std::min<double>(per_row, double(grids.size())) * box_w, kLegendWidth + 8);
  const double height = n_rows * box_h + kLegendHeight;
  Svg svg(width, height);
  for (size_t i = 0; i < grids.size(); ++i) {
    const double x = double(int32_t(i) % per_row) * box_w;
    const double y = double(int32_t(i) / per_row) * box_h;
    svg.text(x, y + 11, grids[i].title, {.size = 10, .bold = true});
    draw_cells(svg, grids[i], scale, x, y + kTitle, cell, cell);
  }
  draw_legend(svg, 4, n_rows * box_h, scale);
  return {svg.str(), svg.width(), svg.height()};
}

Chart line_chart(const LineChartSpec& spec) {
  constexpr double kLeft = 58, kRight = 18, kTop = 14, kBottom = 44, kLegendRow = 18;
  const int32_t legend_per_row = std::max(1, int32_t((spec.width - kLeft) / 200));
  const size_t n_legend = spec.series.size() + (spec.marker_x ? 1 : 0);
  const double legend_h =
      double((n_legend + size_t(legend_per_row) - 1) / size_t(legend_per_row)) * kLegendRow;
  Svg svg(spec.width, spec.height + legend_h);
  const double pw = spec.width - kLeft - kRight, ph = spec.height - kTop - kBottom;
  const double xs = spec.x_hi > spec.x_lo ? pw / (spec.x_hi - spec.x_lo) : 0;
  const double ys = spec.y_hi > spec.y_lo ? ph / (spec.y_hi - spec.y_lo) : 0;
  auto px = [&](double x) {
    return kLeft + (std::clamp(x, spec.x_lo, spec.x_hi) - spec.x_lo) * xs;
  };
  auto py = [&](double y) {
    return kTop + ph - (std::clamp(y, spec.y_lo, spec.y_hi) - spec.y_lo) * ys;
  };

  svg.rect(kLeft, kTop, pw, ph, "#fbfbfb", {}, "#bbb");
  const double ystep = nice_step(spec.y_hi - spec.y_lo, 5);
  for (double y = std::ceil(spec.y_lo / ystep) * ystep; y <= spec.y_hi + 1e-9; y += ystep) {
    svg.line(kLeft, py(y), kLeft + pw, py(y), "#e2e2e2");
    svg.text(kLeft - 6, py(y) + 4, tick_label(y, ystep, spec.y_percent),
             {.size = 10, .anchor = Anchor::kEnd});
  }
  const double xstep = nice_step(spec.x_hi - spec.x_lo, 6);
  for (double x = std::ceil(spec.x_lo / xstep) * xstep; x <= spec.x_hi + 1e-9; x += xstep) {
    svg.line(px(x), kTop + ph, px(x), kTop + ph + 4, "#888");
    svg.text(px(x), kTop + ph + 16, tick_label(x, xstep, false),
             {.size = 10, .anchor = Anchor::kMiddle});
  }
  svg.text(kLeft + pw / 2, kTop + ph + 34, spec.x_title, {.size = 11, .anchor = Anchor::kMiddle});
  svg.text(14, kTop + ph / 2, spec.y_title, {.size = 11, .anchor = Anchor::kMiddle, .rotate = -90});

  for (const Series& s : spec.series) {
    std::vector<Point> points;
    points.reserve(s.points.size());
    for (const Point& p : s.points) {
      if (std::isfinite(p.x) && std::isfinite(p.y)) points.push_back({px(p.x), py(p.y)});
    }
    svg.polyline(points, s.color, 1.8, s.dashed);
  }
  if (spec.marker_x) {
    svg.line(px(*spec.marker_x), kTop, px(*spec.marker_x), kTop + ph, "#d62728", 1.5, true);
  }

  // Legend below the plot.
  const double ly = spec.height + 4;
  for (size_t i = 0; i < n_legend; ++i) {
    const double x = kLeft + double(i % size_t(legend_per_row)) * 200;
    const double y = ly + double(i / size_t(legend_per_row)) * kLegendRow;
    const bool marker = i == spec.series.size();
    const std::string color = marker ? "#d62728" : spec.series[i].color;
    svg.line(x, y + 6, x + 22, y + 6, color, marker ? 1.5 : 2.2, marker || spec.series[i].dashed);
    svg.text(x + 28, y + 10, marker ? spec.marker_label : spec.series[i].name, {.size = 10});
  }
  return {svg.str(), svg.width(), svg.height()};
}

}  // namespace moescope::storage::report
