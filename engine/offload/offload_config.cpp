#include "engine/offload/offload_config.h"

#include <charconv>

#include <fmt/format.h>

#include "engine/common/error.h"
#include "engine/policy/policy_factory.h"

namespace moescope::offload {

uint64_t parse_byte_size(std::string_view text) {
  return policy::Budget::parse_bytes(text).amount;
}

std::string format_bytes(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024.0 && unit < 4) {
    value /= 1024.0;
    ++unit;
  }
  if (unit == 0) return fmt::format("{} B", bytes);
  return fmt::format("{:.2f} {}", value, kUnits[unit]);
}

policy::LinkModel make_link(std::string_view preset, std::string_view bandwidth,
                            std::string_view latency) {
  policy::LinkModel link = policy::LinkModel::preset(preset.empty() ? "none" : preset);
  if (!bandwidth.empty()) link.bandwidth_bytes_per_s = policy::parse_bandwidth(bandwidth);
  if (!latency.empty()) link.latency_ns = policy::parse_duration_ns(latency);
  if (!bandwidth.empty() || !latency.empty()) {
    link.name = preset.empty() ? std::string("custom") : std::string(preset) + "+custom";
  }
  return link;
}

SlowTierRead parse_slow_tier_read(std::string_view text) {
  if (text == "cache") return SlowTierRead::kPageCache;
  if (text == "direct") return SlowTierRead::kDirect;
  if (text == "dropcache") return SlowTierRead::kDropCache;
  fail("--expert-read '{}' is not one of cache, direct, dropcache", text);
}

std::string_view slow_tier_read_name(SlowTierRead read) {
  switch (read) {
    case SlowTierRead::kPageCache:
      return "cache";
    case SlowTierRead::kDirect:
      return "direct";
    case SlowTierRead::kDropCache:
      return "dropcache";
  }
  return "cache";
}

OffloadConfig make_offload_config(const OffloadFlags& flags) {
  OffloadConfig config;
  if (flags.expert_budget.empty() == flags.expert_slots.empty()) {
    fail("give exactly one of --expert-budget (bytes, e.g. 256MiB) and --expert-slots (experts)");
  }
  if (!flags.expert_budget.empty()) {
    config.budget = policy::Budget::bytes(parse_byte_size(flags.expert_budget));
  } else {
    uint64_t slots = 0;
    const std::string_view s = flags.expert_slots;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), slots);
    if (ec != std::errc() || ptr != s.data() + s.size() || slots > (uint64_t{1} << 31)) {
      fail("--expert-slots '{}' is not a number of experts", flags.expert_slots);
    }
    config.budget = policy::Budget::slots(slots);
  }
  if (!flags.policy.empty()) config.policy = flags.policy;
  if (!flags.prefetch.empty()) config.prefetcher = flags.prefetch;
  if (!flags.allocator.empty()) config.allocator = policy::parse_allocator(flags.allocator);
  config.link = make_link(flags.link, flags.link_bandwidth, flags.link_latency);
  config.pack = flags.expert_pack;
  if (!flags.expert_read.empty()) config.read = parse_slow_tier_read(flags.expert_read);
  if (!config.pack.empty() && config.read != SlowTierRead::kPageCache) {
    fail("--expert-read {} reads the GGUF file; an expert pack is read through the page cache",
         flags.expert_read);
  }
  policy::parse_policy_spec(config.policy);  // the spelling; the store builds it
  if (!flags.compare.empty()) {
    config.compare = policy::parse_shadow_specs(flags.compare, config.prefetcher);
  }
  config.lossy = parse_lossy(flags.adaptive_topk, flags.substitute);
  return config;
}

}  // namespace moescope::offload
