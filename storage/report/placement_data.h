#pragma once
// What the report's "Expert-parallel placement" section shows (placement_section.h): contiguous vs
// DeepSeek EPLB vs ExFlow affinity vs the joint placement on 4 and 8 devices of one node, fitted on
// the first half of the run and simulated on the held-out second half (docs/placement.md).
#include <cstdint>
#include <string>
#include <vector>

#include "engine/placement/placement_study.h"

namespace moescope::storage {
class TraceReader;
}

namespace moescope::storage::report {

struct PlacementSection {
  std::vector<placement::Study> studies;  // one per device count that fits the experts
  std::vector<std::string> skipped;       // why a device count has no study
};

PlacementSection placement_section_data(TraceReader& reader, int64_t run);

}  // namespace moescope::storage::report
