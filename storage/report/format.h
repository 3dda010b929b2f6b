#pragma once
// Number formats of the report.
#include <cstdint>
#include <string>
#include <string_view>

namespace moescope::storage::report {

std::string format_bytes(double bytes);    // "12.3 MiB"
std::string format_percent(double share);  // "45.6 %" of a share in [0, 1]; "-" for NaN
std::string format_ms(int64_t ns);         // "12.34 ms"
std::string format_duration(int64_t ns);   // "1.23 s", "2 min 03 s"
std::string format_count(int64_t n);       // "12,345"
std::string format_utc(int64_t unix_ns);   // "2026-11-23 13:42:55 UTC"

// Text from the trace as the report lays it out: at most max_bytes of it (cut on a character
// boundary), then "… (shortened: N of M bytes shown)". A trace may hold megabytes in a label,
// prompt or setting, and laying that out would take the PDF writer minutes.
std::string bounded_text(std::string_view text, size_t max_bytes);
inline constexpr size_t kMaxFieldBytes = 400;   // a label, a setting, a path
inline constexpr size_t kMaxPromptBytes = 4000;  // one prompt

}  // namespace moescope::storage::report
