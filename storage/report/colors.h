#pragma once
// Colour scales of the report and the views: a perceptual sequential scale (viridis) for counts
// and rates, a light-to-red scale for the misses behind the coloured text, and a blue-white-red
// diverging scale for signed differences.
#include <string>

namespace moescope::storage::report {

enum class ColorMap { kViridis, kMisses, kDiverging };

// Channels 0..255 (unrounded) at t in [0, 1] (clamped; not NaN).
struct Rgb {
  double r, g, b;
};
Rgb color_rgb(ColorMap map, double t);

// "#rrggbb" at t in [0, 1] (clamped); NaN gives the "no data" grey.
std::string color_at(ColorMap map, double t);
inline constexpr const char* kNoDataColor = "#e6e6e6";

}  // namespace moescope::storage::report
