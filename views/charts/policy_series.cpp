#include "views/charts/policy_series.h"

#include <algorithm>

#include "views/common/color_scale.h"
#include "views/session/analysis.h"

namespace moescope::views {

QColor policy_color(const PolicyRun& run, int index) {
  if (run.role == PolicyRun::Role::kChosen) return QColor(31, 119, 180);
  if (run.role == PolicyRun::Role::kBound)
    return index % 2 ? QColor(120, 120, 120) : QColor(20, 20, 20).lighter(250);
  return categorical_color(index + 1);
}

QVector<QPointF> cumulative_series(const policy::CacheReport& report, int first_token,
                                   CumulativeMeasure measure) {
  QVector<QPointF> out;
  int64_t hits = 0, accesses = 0, bytes = 0, stall = 0;
  for (int t = std::max(0, first_token); t < int(report.token.size()); ++t) {
    const policy::CacheCounters& c = report.token[size_t(t)];
    hits += c.hits;
    accesses += c.accesses;
    bytes += c.bytes_loaded;
    stall += c.stall_ns;
    switch (measure) {
      case CumulativeMeasure::kHitRate:
        if (accesses > 0) out.append({double(t), double(hits) / double(accesses)});
        break;
      case CumulativeMeasure::kBytes:
        out.append({double(t), double(bytes) / (1024.0 * 1024.0)});
        break;
      case CumulativeMeasure::kStallMs:
        out.append({double(t), double(stall) / 1e6});
        break;
    }
  }
  return out;
}

}  // namespace moescope::views
