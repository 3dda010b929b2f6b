#include "engine/policy/capacity.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <string>

#include "engine/common/error.h"

namespace moescope::policy {

std::optional<double> parse_share(std::string_view text) {
  if (text.empty() || text.back() != '%') return std::nullopt;
  std::string_view number = text.substr(0, text.size() - 1);
  while (!number.empty() && number.back() == ' ') number.remove_suffix(1);
  double percent = 0;
  const auto [ptr, ec] = std::from_chars(number.data(), number.data() + number.size(), percent);
  if (number.empty() || ec != std::errc() || ptr != number.data() + number.size() ||
      !(percent > 0 && percent <= 100)) {
    fail("'{}' is not a share from 0 to 100 %", text);
  }
  return percent / 100.0;
}

uint64_t share_slots(double share, const MoeShape& shape, uint64_t minimum) {
  const auto n = std::llround(share * double(shape.total_experts()));
  return std::max<uint64_t>(minimum, n > 0 ? uint64_t(n) : 0);
}

Budget Budget::parse_bytes(std::string_view text) {
  size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'))
    ++i;
  double value = 0;
  const std::string number(text.substr(0, i));
  auto [ptr, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
  if (number.empty() || ec != std::errc() || ptr != number.data() + number.size())
    fail("'{}' is not a byte size (e.g. 256MiB, 1.5GB, 4096)", text);
  const std::string_view unit = text.substr(i);
  double scale = 0;
  if (unit.empty() || unit == "B")
    scale = 1;
  else if (unit == "KB" || unit == "kB")
    scale = 1e3;
  else if (unit == "MB")
    scale = 1e6;
  else if (unit == "GB")
    scale = 1e9;
  else if (unit == "TB")
    scale = 1e12;
  else if (unit == "KiB")
    scale = 1024.0;
  else if (unit == "MiB")
    scale = 1024.0 * 1024;
  else if (unit == "GiB")
    scale = 1024.0 * 1024 * 1024;
  else if (unit == "TiB")
    scale = 1024.0 * 1024 * 1024 * 1024;
  else
    fail("'{}' has an unknown size unit '{}' (B, KB, MB, GB, KiB, MiB, GiB)", text, unit);
  const double n_bytes = value * scale;
  if (!std::isfinite(n_bytes) || n_bytes >= 0x1p62) fail("the byte size '{}' is too large", text);
  return Budget::bytes(static_cast<uint64_t>(n_bytes));
}

CacheCapacity CacheCapacity::per_layer(std::vector<int32_t> slots) {
  CacheCapacity c;
  c.pool = PoolKind::kPerLayer;
  c.layer_slots = std::move(slots);
  return c;
}

CacheCapacity CacheCapacity::uniform(int32_t n_layers, int32_t slots_per_layer) {
  return per_layer(std::vector<int32_t>(size_t(std::max(n_layers, 0)), slots_per_layer));
}

CacheCapacity CacheCapacity::global_slots(uint64_t slots) {
  CacheCapacity c;
  c.pool = PoolKind::kGlobal;
  c.global = slots;
  return c;
}

CacheCapacity CacheCapacity::global_bytes(uint64_t bytes) {
  CacheCapacity c = global_slots(bytes);
  c.in_bytes = true;
  return c;
}

uint64_t CacheCapacity::total_slots(const MoeShape& shape) const {
  if (pool == PoolKind::kPerLayer) {
    uint64_t sum = 0;
    for (int32_t s : layer_slots) sum += uint64_t(std::max(s, 0));
    return sum;
  }
  if (!in_bytes) return global;
  // The number of experts a byte pool holds at the mean expert size.
  const double mean = double(shape.total_bytes()) / double(shape.total_experts());
  return static_cast<uint64_t>(double(global) / mean);
}

void CacheCapacity::validate(const MoeShape& shape) const {
  if (pool == PoolKind::kPerLayer) {
    if (in_bytes) fail("a per-layer cache is sized in slots; convert bytes with an allocator");
    if (layer_slots.size() != size_t(shape.n_layers()))
      fail("the cache has capacities for {} layers but the model has {} MoE layers",
           layer_slots.size(), shape.n_layers());
    for (int32_t l = 0; l < shape.n_layers(); ++l)
      if (layer_slots[l] < 0) fail("layer {} has a negative capacity", l);
  }
}

}  // namespace moescope::policy
