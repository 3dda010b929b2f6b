#pragma once
// Colour maps shared by the views: a perceptually uniform sequential map (viridis) for counts and
// rates, a diverging one for signed differences, and a categorical palette for expert ids. All
// read well on both the light and the dark palette.
#include <QColor>

namespace moescope::views {

enum class ColorMap { kSequential, kDiverging };

// t in [0, 1] (clamped); NaN gives a neutral grey.
QColor map_color(ColorMap map, double t);
// A distinct colour per expert id (cycles after 20).
QColor categorical_color(int index);
// Black or white, whichever reads better on `background`.
QColor text_color_on(const QColor& background);

}  // namespace moescope::views
