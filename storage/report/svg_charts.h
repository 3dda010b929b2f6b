#pragma once
// The report's charts as SVG strings: a heatmap with its colour legend, small multiples of heat
// grids (the affinity between consecutive layers), and a line chart (hit-rate curves).
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "storage/report/colors.h"
#include "storage/report/svg_writer.h"

namespace moescope::storage::report {

struct Chart {
  std::string svg;  // an <svg> element
  double width = 0;
  double height = 0;
};

struct ColorScale {
  ColorMap map = ColorMap::kViridis;
  double lo = 0;
  double hi = 1;
  std::string label;  // what the colour means
  int decimals = 0;   // of the legend's numbers
  double position(double v) const { return hi > lo ? (v - lo) / (hi - lo) : 0.0; }
};

// Rows of cells (row r has row_cells[r] cells; rows may differ in length).
struct HeatGrid {
  std::string title;
  std::vector<std::string> row_labels;
  std::vector<int32_t> row_cells;
  std::function<double(int32_t row, int32_t col)> value;  // NaN: no data
  std::function<std::string(int32_t row, int32_t col)> tooltip;
  std::string x_title;
  std::string y_title;
};

// One grid with labelled rows and columns and a colour legend; each cell is a <rect
// class="cell">.
Chart heatmap_chart(const HeatGrid& grid, const ColorScale& scale, double max_width = 900);
// Small grids side by side (cells of `cell` px, no per-row labels) and one legend.
Chart small_multiples_chart(const std::vector<HeatGrid>& grids, const ColorScale& scale,
                            double cell, double max_width = 900);

struct Series {
  std::string name;
  std::string color;
  bool dashed = false;
  std::vector<Point> points;  // data coordinates
};

struct LineChartSpec {
  std::string x_title;
  std::string y_title;
  double x_lo = 0, x_hi = 1, y_lo = 0, y_hi = 1;
  bool y_percent = false;  // y ticks as percentages of 1
  std::vector<Series> series;
  std::optional<double> marker_x;  // a labelled vertical line (the run's budget)
  std::string marker_label;
  double width = 640;
  double height = 300;
};

Chart line_chart(const LineChartSpec& spec);

// Colours for the n-th series.
std::string series_color(size_t n);

}  // namespace moescope::storage::report
