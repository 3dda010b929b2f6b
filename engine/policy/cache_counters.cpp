#include "engine/policy/cache_counters.h"

namespace moescope::policy {

CacheCounters& CacheCounters::operator+=(const CacheCounters& o) {
  accesses += o.accesses;
  hits += o.hits;
  misses += o.misses;
  bypasses += o.bypasses;
  evictions += o.evictions;
  bytes_loaded += o.bytes_loaded;
  prefetch_predicted += o.prefetch_predicted;
  prefetch_correct += o.prefetch_correct;
  prefetch_routed += o.prefetch_routed;
  prefetch_issued += o.prefetch_issued;
  prefetch_bytes += o.prefetch_bytes;
  prefetch_used += o.prefetch_used;
  prefetch_late += o.prefetch_late;
  prefetch_wasted += o.prefetch_wasted;
  prefetch_wasted_bytes += o.prefetch_wasted_bytes;
  stall_ns += o.stall_ns;
  return *this;
}

}  // namespace moescope::policy
