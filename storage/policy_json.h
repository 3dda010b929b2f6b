#pragma once
// The JSON spellings of a policy's capacity and timing model in the policies table. Parsing reads
// untrusted files: anything malformed is a moescope::Error naming the field.
#include <string>
#include <string_view>

#include "engine/policy/capacity.h"
#include "engine/policy/simulator.h"

namespace moescope::storage {

std::string capacity_to_json(const policy::CacheCapacity& capacity);
policy::CacheCapacity capacity_from_json(std::string_view json);

// measured_compute: the policy's time used measured layer compute (PolicyDescription).
std::string timing_to_json(const policy::TimingModel& timing, bool measured_compute);
policy::TimingModel timing_from_json(std::string_view json, bool* measured_compute = nullptr);

}  // namespace moescope::storage
