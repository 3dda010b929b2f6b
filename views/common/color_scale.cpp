#include "views/common/color_scale.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "storage/report/colors.h"

namespace moescope::views {

QColor map_color(ColorMap map, double t) {
  if (std::isnan(t)) return QColor(128, 128, 128);
  using storage::report::color_rgb;
  const auto c = color_rgb(map == ColorMap::kSequential ? storage::report::ColorMap::kViridis
                                                        : storage::report::ColorMap::kDiverging,
                           t);
  return QColor::fromRgbF(float(c.r / 255.0), float(c.g / 255.0), float(c.b / 255.0));
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
