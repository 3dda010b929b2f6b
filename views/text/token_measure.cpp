#include "views/text/token_measure.h"

#include <algorithm>
#include <limits>

#include "views/common/color_scale.h"
#include "views/session/analysis.h"
#include "views/session/run_data.h"

namespace moescope::views {
namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

int64_t token_stall(const RunData& run, int t, bool* measured) {
  if (run.stall_ns(t) >= 0) {
    if (measured) *measured = true;
    return run.stall_ns(t);
  }
  const auto& a = run.analysis();
  if (a && a->chosen() && t < int(a->chosen()->report.token.size())) {
    if (measured) *measured = false;
    return a->chosen()->report.token[size_t(t)].stall_ns;
  }
  return -1;
}
}  // namespace

MeasureScale measure_scale(const RunData& run) {
  MeasureScale s;
  for (int t = run.prompt_count(); t < run.routed_count(); ++t) {
    bool measured = false;
    const int64_t ns = token_stall(run, t, &measured);
    if (ns < 0) continue;
    s.stall_measured = measured;
    s.max_stall_ns = std::max(s.max_stall_ns, double(ns));
  }
  return s;
}

double raw_measure(const RunData& run, TokenMeasure measure, int t, int layer) {
  if (!run.routed(t)) return kNaN;
  switch (measure) {
    case TokenMeasure::kNone:
      return kNaN;
    case TokenMeasure::kMisses: {
      const auto& a = run.analysis();
      if (!a || t >= a->n_tokens) return kNaN;
      int64_t misses = 0, total = 0;
      for (int l = 0; l < run.n_layers(); ++l) {
        const int64_t base = run.selection_offset(t, l);
        for (size_t r = 0; r < run.experts(t, l).size(); ++r, ++total) {
          if (a->outcome[size_t(base) + r] == AccessOutcome::kMiss) ++misses;
        }
      }
      return total ? double(misses) / double(total) : kNaN;
    }
    case TokenMeasure::kStall: {
      const int64_t ns = token_stall(run, t, nullptr);
      return ns < 0 ? kNaN : double(ns);
    }
    case TokenMeasure::kExpert: {
      if (layer < 0 || layer >= run.n_layers()) return kNaN;
      const auto e = run.experts(t, layer);
      return e.empty() ? kNaN : double(e[0].value);
    }
    case TokenMeasure::kEntropy: {
      double sum = 0;
      int n = 0;
      for (int l = 0; l < run.n_layers(); ++l) {
        const float h = run.entropy_bits(t, l);
        if (std::isnan(h)) continue;
        sum += h;
        ++n;
      }
      return n ? sum / n : kNaN;
    }
  }
  return kNaN;
}

QColor measure_color(const RunData& run, const MeasureScale& scale, TokenMeasure measure, int t,
                     int layer) {
  if (measure == TokenMeasure::kNone) return {};
  const double v = raw_measure(run, measure, t, layer);
  if (std::isnan(v)) return {};
  switch (measure) {
    case TokenMeasure::kMisses:
      return map_color(ColorMap::kSequential, v);
    case TokenMeasure::kStall:
      return map_color(ColorMap::kSequential, scale.max_stall_ns > 0 ? v / scale.max_stall_ns : 0);
    case TokenMeasure::kExpert:
      return categorical_color(int(v));
    case TokenMeasure::kEntropy:
      return map_color(ColorMap::kSequential,
                       run.max_entropy_bits() > 0 ? v / run.max_entropy_bits() : 0);
    case TokenMeasure::kNone:
      break;
  }
  return {};
}

}  // namespace moescope::views
