#pragma once
// The link between the slow tier that holds experts and the fast tier that computes with them,
// reduced to what decides load time: sustained bandwidth and a fixed per-load latency. The
// simulator uses it to model stall time; the real loader paces its loads with the same numbers.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace moescope::policy {

struct LinkModel {
  std::string name = "none";
  double bandwidth_bytes_per_s = 0;  // 0 = unlimited
  int64_t latency_ns = 0;

  // Time one load of `bytes` occupies the link: latency + bytes / bandwidth (rounded up).
  int64_t transfer_ns(uint64_t bytes) const;
  bool unlimited() const { return bandwidth_bytes_per_s <= 0 && latency_ns == 0; }

  // One of preset_names(); throws moescope::Error naming the choices otherwise.
  static LinkModel preset(std::string_view name);
  static std::span<const std::string_view> preset_names();
  bool operator==(const LinkModel&) const = default;
};

// "12GB/s", "500MiB/s", "2.5e9" (bytes per second). Throws moescope::Error.
double parse_bandwidth(std::string_view text);
// "80us", "1.5ms", "200ns", "0" (no unit = nanoseconds). Throws moescope::Error.
int64_t parse_duration_ns(std::string_view text);

}  // namespace moescope::policy
