#include "views/charts/policy_series.h"

#include <QHash>
#include <QStringList>

#include <algorithm>
#include <array>

#include "views/common/color_scale.h"
#include "views/session/analysis.h"
#include "views/settings/policy_choices.h"

namespace moescope::views {

QColor policy_color(const PolicyRun& run, int /*index*/) {
  // By name, not by place in the list: a policy keeps its colour across runs, whatever else is
  // compared. Mid-tone colours only, so that lines (bounds too) show on light and dark bases.
  static constexpr std::array<QRgb, 10> kTableau10 = {0x4e79a7, 0xf28e2b, 0xe15759, 0x76b7b2,
                                                      0x59a14f, 0xedc948, 0xb07aa1, 0xff9da7,
                                                      0x9c755f, 0x8c8c8c};
  const QString spec = QString::fromStdString(run.spec);
  const QString name = spec.section(QLatin1Char(':'), 0, 0);
  QStringList known = comparable_policies();
  known << history_policies();
  qsizetype i = known.indexOf(name);
  if (i < 0) i = qsizetype(qHash(name) % 97u);
  QColor c(kTableau10[size_t(i) % kTableau10.size()]);
  if (i >= qsizetype(kTableau10.size())) {
    // The second round: the same hues turned, so that no two known policies look alike.
    c = QColor::fromHsv((c.hsvHue() + 150 * int(i / qsizetype(kTableau10.size()))) % 360,
                        c.hsvSaturation(), c.value());
  }
  return c;
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
