#include "storage/read_checks.h"

#include <fmt/format.h>

#include "engine/common/error.h"
#include "engine/policy/capacity.h"
#include "storage/counter_fields.h"

namespace moescope::storage {

void fail_damaged(const std::filesystem::path& trace, std::string_view table, std::string_view row,
                  std::string_view what) {
  fail("trace {} is damaged: {} row ({}): {}", trace.string(), table, row, what);
}

void check_counters(const std::filesystem::path& trace, std::string_view table,
                    std::string_view row, const policy::CacheCounters& c) {
  for (size_t i = 0; i < kCounterFields.size(); ++i) {
    if (c.*kCounterFields[i] >= 0) continue;
    // The i-th name of kCounterColumns ("accesses, hits, ...").
    std::string_view names = kCounterColumns;
    for (size_t skip = 0; skip < i; ++skip) names.remove_prefix(names.find(", ") + 2);
    fail_damaged(trace, table, row,
                 fmt::format("{} is negative ({})", names.substr(0, names.find(',')),
                             c.*kCounterFields[i]));
  }
}

void check_not_negative(const std::filesystem::path& trace, std::string_view table,
                        std::string_view row, std::string_view column, int64_t value) {
  if (value < 0) fail_damaged(trace, table, row, fmt::format("{} is negative ({})", column, value));
}

void check_capacity(const std::filesystem::path& trace, std::string_view row,
                    const policy::CacheCapacity& capacity, const policy::MoeShape& shape) {
  try {
    capacity.validate(shape);
  } catch (const Error& e) {
    fail_damaged(trace, "policies", row, fmt::format("impossible capacity ({})", e.what()));
  }
}

}  // namespace moescope::storage
