#pragma once
// Shared by the exporters: a run's positions in chunks, counter names, and small spellings.
#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "engine/policy/cache_counters.h"
#include "storage/export/export.h"
#include "storage/trace_reader.h"

namespace moescope::storage {

// Calls visit(range) for consecutive position ranges of `chunk` positions covering the run's
// token rows, then once for everything past them (rows a damaged file might hold), reporting
// progress after each.
void for_each_chunk(TraceReader& reader, int64_t run, const ExportOptions& options,
                    const std::function<void(TokenRange)>& visit);

// The CacheCounters field names in kCounterFields order (the policy_tokens columns).
const std::vector<std::string_view>& counter_names();

// The primary policy of a run (the one that drove the cache), or the first; -1 without any.
int32_t primary_policy(const std::vector<PolicyDescription>& policies);

}  // namespace moescope::storage
