#pragma once
// What a cache run produces. The simulator and the real expert cache fill the same structs in
// the same way, so "replay equals live" is checked with ==. Everything is an integer count or
// integer nanoseconds of modelled time (the link model, not the wall clock), so equal streams
// give bit-identical counters. Bytes are counted when a load is issued.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/policy/routing_trace.h"

namespace moescope::policy {

struct CacheCounters {
  int64_t accesses = 0;  // demand accesses (a prefill chunk counts each distinct expert once)
  int64_t hits = 0;      // resident when accessed (late prefetches included)
  int64_t misses = 0;    // not resident: a demand load
  int64_t bypasses = 0;  // misses that were not admitted (loaded, used, dropped)
  int64_t evictions = 0;
  int64_t bytes_loaded = 0;  // demand + prefetch

  int64_t prefetch_predicted = 0;  // |P| summed over predicted targets
  int64_t prefetch_correct = 0;    // |P & R|
  int64_t prefetch_routed = 0;     // |R| at predicted targets
  int64_t prefetch_issued = 0;     // loads started by the prefetcher
  int64_t prefetch_bytes = 0;
  int64_t prefetch_used = 0;    // prefetched entries accessed before eviction
  int64_t prefetch_late = 0;    // ... that were still loading when accessed
  int64_t prefetch_wasted = 0;  // prefetched entries evicted unused
  int64_t prefetch_wasted_bytes = 0;

  int64_t stall_ns = 0;  // modelled time compute waited for loads

  double hit_rate() const { return accesses ? double(hits) / double(accesses) : 0.0; }
  double precision() const {
    return prefetch_predicted ? double(prefetch_correct) / double(prefetch_predicted) : 0.0;
  }
  double recall() const {
    return prefetch_routed ? double(prefetch_correct) / double(prefetch_routed) : 0.0;
  }

  CacheCounters& operator+=(const CacheCounters& o);
  bool operator==(const CacheCounters&) const = default;
};

struct CacheReport {
  std::string policy;
  std::string prefetcher;
  std::array<CacheCounters, 2> phase{};             // [prefill, decode]
  std::array<std::vector<CacheCounters>, 2> layer;  // [phase][n_layers], by the expert's layer
  std::vector<CacheCounters> token;                 // [tokens] summed over layers; a prefill
                                                    // chunk is booked on its first token
  int64_t end_ns = 0;                               // modelled time at the end

  CacheCounters total() const {
    CacheCounters c = phase[0];
    c += phase[1];
    return c;
  }
  bool operator==(const CacheReport&) const = default;
};

}  // namespace moescope::policy
