#pragma once
// Per-policy series derived from a cache report, and the colour each policy keeps in every chart
// and table.
#include <QColor>
#include <QPointF>
#include <QVector>

#include "engine/policy/cache_counters.h"

namespace moescope::policy {
struct PolicyRun;
}

namespace moescope::views {

using PolicyRun = policy::PolicyRun;  // views/session/analysis.h

QColor policy_color(const PolicyRun& run, int index);

enum class CumulativeMeasure { kHitRate, kBytes, kStallMs };
// Over the decode tokens from `first_token` on: the running hit rate (hits / accesses so far),
// the bytes loaded so far (MiB), or the modelled stall so far (ms). x is the token position.
QVector<QPointF> cumulative_series(const policy::CacheReport& report, int first_token,
                                   CumulativeMeasure measure);

}  // namespace moescope::views
