#pragma once
// Checks of what a reader takes from a trace. A file that is valid SQLite can still be damaged
// (a row edited by hand, a bit flipped inside a value, a foreign writer): such values are refused
// with one line that names the table and the row at fault ("trace F is damaged: policy_tokens
// row (run 1, policy 0, pos 7): misses is negative"), never partly accepted. The checks hold for
// every schema version (1 to kSchemaVersion): they look only at what all of them have.
#include <cstdint>
#include <filesystem>
#include <string_view>

#include "engine/policy/cache_counters.h"

namespace moescope::policy {
struct MoeShape;
struct CacheCapacity;
}  // namespace moescope::policy

namespace moescope::storage {

// "trace F is damaged: TABLE row ROW: WHAT".
[[noreturn]] void fail_damaged(const std::filesystem::path& trace, std::string_view table,
                               std::string_view row, std::string_view what);

// Every counter is >= 0.
void check_counters(const std::filesystem::path& trace, std::string_view table,
                    std::string_view row, const policy::CacheCounters& c);
// A value that must be >= 0 (a count, a duration, a size).
void check_not_negative(const std::filesystem::path& trace, std::string_view table,
                        std::string_view row, std::string_view column, int64_t value);
// A capacity the run's shape can hold (policy::CacheCapacity::validate), one pool per layer.
void check_capacity(const std::filesystem::path& trace, std::string_view row,
                    const policy::CacheCapacity& capacity, const policy::MoeShape& shape);

}  // namespace moescope::storage
