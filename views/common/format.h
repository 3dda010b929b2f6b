#pragma once
// Numbers as the views print them, in the user's locale.
#include <QString>

#include <cstdint>

namespace moescope::views {

QString format_bytes(uint64_t bytes);     // "1.50 MiB"
QString format_duration_ns(int64_t ns);   // "812 µs", "1.25 ms", "2.4 s"
QString format_percent(double fraction);  // 0.4567 -> "45.7 %"
QString format_count(int64_t count);      // grouped digits

}  // namespace moescope::views
