#include "storage/report/format.h"

#include <fmt/format.h>

#include <cmath>
#include <ctime>

namespace moescope::storage::report {

std::string format_bytes(double bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (std::fabs(bytes) >= 1024 && u < 4) bytes /= 1024, ++u;
  return u == 0 ? fmt::format("{:.0f} B", bytes) : fmt::format("{:.1f} {}", bytes, kUnits[u]);
}

std::string format_percent(double share) {
  if (!std::isfinite(share)) return "-";
  return fmt::format("{:.1f} %", 100 * share);
}

std::string format_ms(int64_t ns) {
  return fmt::format("{:.2f} ms", double(ns) / 1e6);
}

std::string format_duration(int64_t ns) {
  const double s = double(ns) / 1e9;
  if (s < 60) return fmt::format("{:.2f} s", s);
  const int64_t whole = int64_t(s);
  if (whole < 3600) return fmt::format("{} min {:02} s", whole / 60, whole % 60);
  return fmt::format("{} h {:02} min", whole / 3600, (whole / 60) % 60);
}

std::string format_count(int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

std::string format_utc(int64_t unix_ns) {
  if (unix_ns <= 0) return "-";
  const std::time_t t = std::time_t(unix_ns / 1000000000);
  std::tm tm{};
  if (!gmtime_r(&t, &tm)) return "-";
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

std::string bounded_text(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  size_t cut = max_bytes;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xc0) == 0x80) --cut;
  return fmt::format("{}… (shortened: {} of {} bytes shown)", text.substr(0, cut), cut,
                     text.size());
}

}  // namespace moescope::storage::report
