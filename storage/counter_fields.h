#pragma once
// The CacheCounters fields in the column order of policy_tokens and policy_layers.
#include <array>
#include <cstdint>

#include "engine/policy/cache_counters.h"

namespace moescope::storage {

using CounterField = int64_t policy::CacheCounters::*;
inline constexpr std::array<CounterField, 16> kCounterFields = {
    &policy::CacheCounters::accesses,
    &policy::CacheCounters::hits,
    &policy::CacheCounters::misses,
    &policy::CacheCounters::bypasses,
    &policy::CacheCounters::evictions,
    &policy::CacheCounters::bytes_loaded,
    &policy::CacheCounters::prefetch_predicted,
    &policy::CacheCounters::prefetch_correct,
    &policy::CacheCounters::prefetch_routed,
    &policy::CacheCounters::prefetch_issued,
    &policy::CacheCounters::prefetch_bytes,
    &policy::CacheCounters::prefetch_used,
    &policy::CacheCounters::prefetch_late,
    &policy::CacheCounters::prefetch_wasted,
    &policy::CacheCounters::prefetch_wasted_bytes,
    &policy::CacheCounters::stall_ns,
};
static_assert(sizeof(policy::CacheCounters) == kCounterFields.size() * sizeof(int64_t),
              "every CacheCounters field must be stored");

inline constexpr const char* kCounterColumns =
    "accesses, hits, misses, bypasses, evictions, bytes_loaded, prefetch_predicted, "
    "prefetch_correct, prefetch_routed, prefetch_issued, prefetch_bytes, prefetch_used, "
    "prefetch_late, prefetch_wasted, prefetch_wasted_bytes, stall_ns";

inline bool all_zero(const policy::CacheCounters& c) {
  return c == policy::CacheCounters{};
}

}  // namespace moescope::storage
