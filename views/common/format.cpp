#include "views/common/format.h"

#include <QLocale>

namespace moescope::views {

QString format_bytes(uint64_t bytes) {
  return QLocale().formattedDataSize(qint64(bytes), 2, QLocale::DataSizeIecFormat);
}

QString format_duration_ns(int64_t ns) {
  const QLocale locale;
  const double v = double(ns);
  if (ns < 1'000) return locale.toString(ns) + QStringLiteral(" ns");
  if (ns < 1'000'000) return locale.toString(v / 1e3, 'f', 1) + QStringLiteral(" µs");
  if (ns < 1'000'000'000) return locale.toString(v / 1e6, 'f', 2) + QStringLiteral(" ms");
  return locale.toString(v / 1e9, 'f', 2) + QStringLiteral(" s");
}

QString format_percent(double fraction) {
  return QLocale().toString(fraction * 100.0, 'f', 1) + QStringLiteral(" %");
}

QString format_count(int64_t count) {
  return QLocale().toString(qlonglong(count));
}

}  // namespace moescope::views
