#include "storage/report/colors.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>

namespace moescope::storage::report {
namespace {

// Matplotlib's viridis at 9 even stops.
constexpr std::array<Rgb, 9> kViridis = {{{68, 1, 84},
                                          {71, 44, 122},
                                          {59, 81, 139},
                                          {44, 113, 142},
                                          {33, 144, 141},
                                          {39, 173, 129},
                                          {92, 200, 99},
                                          {170, 220, 50},
                                          {253, 231, 37}}};
// White through yellow and orange to red (ColorBrewer YlOrRd-like).
constexpr std::array<Rgb, 5> kMisses = {
    {{255, 255, 255}, {255, 237, 160}, {254, 178, 76}, {240, 59, 32}, {177, 0, 38}}};
// Blue - white - red (ColorBrewer RdBu, reversed).
constexpr std::array<Rgb, 5> kDiverging = {
    {{33, 102, 172}, {146, 197, 222}, {247, 247, 247}, {244, 165, 130}, {178, 24, 43}}};

template <size_t N>
Rgb interpolate(const std::array<Rgb, N>& stops, double t) {
  t = std::clamp(t, 0.0, 1.0) * double(N - 1);
  const size_t i = std::min(size_t(t), N - 2);
  const double f = t - double(i);
  const Rgb& a = stops[i];
  const Rgb& b = stops[i + 1];
  return {a.r + (b.r - a.r) * f, a.g + (b.g - a.g) * f, a.b + (b.b - a.b) * f};
}

}  // namespace

Rgb color_rgb(ColorMap map, double t) {
  switch (map) {
    case ColorMap::kViridis:
      return interpolate(kViridis, t);
    case ColorMap::kMisses:
      return interpolate(kMisses, t);
    case ColorMap::kDiverging:
      break;
  }
  return interpolate(kDiverging, t);
}

std::string color_at(ColorMap map, double t) {
  if (std::isnan(t)) return kNoDataColor;
  const Rgb c = color_rgb(map, t);
  auto byte = [](double x) { return int(std::lround(x)); };
  return fmt::format("#{:02x}{:02x}{:02x}", byte(c.r), byte(c.g), byte(c.b));
}

}  // namespace moescope::storage::report
