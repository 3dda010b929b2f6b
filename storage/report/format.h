#pragma once
// Number formats of the report.
#include <cstdint>
#include <string>

namespace moescope::storage::report {

std::string format_bytes(double bytes);    // "12.3 MiB"
std::string format_percent(double share);  // "45.6 %" of a share in [0, 1]; "-" for NaN
std::string format_ms(int64_t ns);         // "12.34 ms"
std::string format_duration(int64_t ns);   // "1.23 s", "2 min 03 s"
std::string format_count(int64_t n);       // "12,345"
std::string format_utc(int64_t unix_ns);   // "2026-11-23 13:42:55 UTC"

}  // namespace moescope::storage::report
