#include "views/common/color_scale.h"

#include <algorithm>
#include <array>
#include <cmath>

namespace moescope::views {
namespace {

struct Stop {
  double r, g, b;
};

// viridis at 9 evenly spaced points (matplotlib's table).
constexpr std::array<Stop, 9> kViridis = {{{68, 1, 84},
                                           {71, 44, 122},
                                           {59, 81, 139},
                                           {44, 113, 142},
                                           {33, 144, 141},
                                           {39, 173, 129},
                                           {92, 200, 99},
                                           {170, 220, 50},
                                           {253, 231, 37}}};
// blue - white - red (ColorBrewer RdBu, reversed).
constexpr std::array<Stop, 5> kDiverging = {
    {{33, 102, 172}, {146, 197, 222}, {247, 247, 247}, {244, 165, 130}, {178, 24, 43}}};

template <size_t N>
QColor interpolate(const std::array<Stop, N>& stops, double t) {
  const double x = std::clamp(t, 0.0, 1.0) * double(N - 1);
  const size_t i = std::min(size_t(x), N - 2);
  const double f = x - double(i);
  const Stop& a = stops[i];
  const Stop& b = stops[i + 1];
  return QColor::fromRgbF(float((a.r + (b.r - a.r) * f) / 255.0),
                          float((a.g + (b.g - a.g) * f) / 255.0),
                          float((a.b + (b.b - a.b) * f) / 255.0));
}

}  // namespace

QColor map_color(ColorMap map, double t) {
  if (std::isnan(t)) return QColor(128, 128, 128);
  return map == ColorMap::kSequential ? interpolate(kViridis, t) : interpolate(kDiverging, t);
}

QColor categorical_color(int index) {
  // Tableau 20.
  static constexpr std::array<QRgb, 20> kColors = {
      0x1f77b4, 0xff7f0e, 0x2ca02c, 0xd62728, 0x9467bd, 0x8c564b, 0xe377c2,
      0x7f7f7f, 0xbcbd22, 0x17becf, 0xaec7e8, 0xffbb78, 0x98df8a, 0xff9896,
      0xc5b0d5, 0xc49c94, 0xf7b6d2, 0xc7c7c7, 0xdbdb8d, 0x9edae5};
  if (index < 0) return QColor(128, 128, 128);
  return QColor(kColors[size_t(index) % kColors.size()]);
}

QColor text_color_on(const QColor& background) {
  const double luma =
      0.299 * background.redF() + 0.587 * background.greenF() + 0.114 * background.blueF();
  return luma > 0.55 ? QColor(Qt::black) : QColor(Qt::white);
}

}  // namespace moescope::views
