#include "engine/policy/link_model.h"

#include <array>
#include <cctype>
#include <charconv>
#include <cmath>

#include "engine/common/error.h"

namespace moescope::policy {

namespace {

struct Preset {
  std::string_view name;
  double bandwidth;  // bytes/s, decimal units
  int64_t latency_ns;
};

// Sustained sequential-read (or host-to-device copy) rates of typical parts, not the raw line
// rates, and the per-request latency that a load of one expert pays on top.
constexpr std::array<Preset, 7> kPresets{{
    // This machine as it is: loads are not paced.
    {"none", 0, 0},
    // PCIe 4.0 x16: 16 GT/s x 16 lanes x 128b/130b = 31.5 GB/s per direction; pinned host-to-device
    // copies measure about 25 GB/s (CUDA bandwidthTest on A100 / RTX 4090). ~10 us covers the copy
    // launch and DMA setup.
    {"pcie4x16", 25e9, 10'000},
    // PCIe 3.0 x16: 8 GT/s x 16 x 128b/130b = 15.75 GB/s; pinned copies measure about 12 GB/s.
    {"pcie3x16", 12e9, 10'000},
    // NVMe SSD on PCIe 4.0 x4 (e.g. Samsung 990 PRO, rated 7.45 GB/s sequential read; the x4 link
    // carries 7.9 GB/s). QD1 read latency of consumer NVMe is about 50-100 us.
    {"nvme", 7e9, 80'000},
    // SATA III SSD: 6 Gb/s with 8b/10b = 600 MB/s on the wire; drives such as the Samsung 870 EVO
    // are rated 560 MB/s sequential read; about 100 us per request.
    {"sata-ssd", 550e6, 100'000},
    // UFS 3.1 phone storage: two HS-G4 lanes (2 x 11.6 Gb/s raw); parts are rated about 2.1 GB/s
    // sequential read (Samsung UFS 3.1); request latency about 100-150 us.
    {"ufs31", 2.1e9, 120'000},
    // eMMC 5.1 HS400: 8-bit DDR bus at 200 MHz = 400 MB/s; parts read 250-330 MB/s sequentially
    // and take a few hundred microseconds per random request.
    {"emmc", 300e6, 300'000},
}};

constexpr std::array<std::string_view, kPresets.size()> kNames = [] {
  std::array<std::string_view, kPresets.size()> names{};
  for (size_t i = 0; i < kPresets.size(); ++i) names[i] = kPresets[i].name;
  return names;
}();

// Splits "12.5GB/s" into 12.5 and "GB/s".
std::pair<double, std::string_view> number_and_unit(std::string_view text, const char* what) {
  size_t i = 0;
  // No unit starts with 'e', so "2.5e9" reads as one number.
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.' ||
                             text[i] == 'e' || text[i] == 'E' || text[i] == '+' || text[i] == '-'))
    ++i;
  double value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + i, value);
  if (i == 0 || ec != std::errc() || ptr != text.data() + i || !std::isfinite(value) || value < 0)
    fail("'{}' is not a {}", text, what);
  return {value, text.substr(i)};
}

}  // namespace

int64_t LinkModel::transfer_ns(uint64_t bytes) const {
  if (bandwidth_bytes_per_s <= 0) return latency_ns;
  return latency_ns + static_cast<int64_t>(std::ceil(double(bytes) * 1e9 / bandwidth_bytes_per_s));
}

LinkModel LinkModel::preset(std::string_view name) {
  for (const Preset& p : kPresets)
    if (p.name == name) return LinkModel{std::string(p.name), p.bandwidth, p.latency_ns};
  std::string choices;
  for (std::string_view n : kNames) choices += (choices.empty() ? "" : ", ") + std::string(n);
  fail("unknown link preset '{}' (choose one of {})", name, choices);
}

std::span<const std::string_view> LinkModel::preset_names() {
  return kNames;
}

double parse_bandwidth(std::string_view text) {
  auto [value, unit] = number_and_unit(text, "bandwidth (e.g. 12GB/s, 500MiB/s)");
  double scale = 0;
  if (unit.empty() || unit == "B/s")
    scale = 1;
  else if (unit == "KB/s" || unit == "kB/s")
    scale = 1e3;
  else if (unit == "MB/s")
    scale = 1e6;
  else if (unit == "GB/s")
    scale = 1e9;
  else if (unit == "KiB/s")
    scale = 1024.0;
  else if (unit == "MiB/s")
    scale = 1024.0 * 1024;
  else if (unit == "GiB/s")
    scale = 1024.0 * 1024 * 1024;
  else
    fail("'{}' has an unknown bandwidth unit '{}' (B/s, MB/s, GB/s, MiB/s, GiB/s)", text, unit);
  const double bw = value * scale;
  if (!(bw > 0) || !std::isfinite(bw)) fail("the bandwidth '{}' must be positive", text);
  return bw;
}

int64_t parse_duration_ns(std::string_view text) {
  auto [value, unit] = number_and_unit(text, "duration (e.g. 80us, 1.5ms)");
  double scale = 0;
  if (unit.empty() || unit == "ns")
    scale = 1;
  else if (unit == "us")
    scale = 1e3;
  else if (unit == "ms")
    scale = 1e6;
  else if (unit == "s")
    scale = 1e9;
  else
    fail("'{}' has an unknown time unit '{}' (ns, us, ms, s)", text, unit);
  const double ns = value * scale;
  if (ns > 3.6e12) fail("the duration '{}' is longer than an hour", text);
  return static_cast<int64_t>(std::llround(ns));
}

}  // namespace moescope::policy
