#pragma once
// The default placement of SGLang ("trivial" expert location) and vLLM without EPLB: physical slot
// s holds logical expert s % E, so without redundant experts expert e sits on device
// e / (E / G); redundant slots repeat the experts from 0 on.
#include <cstdint>
#include <vector>

#include "engine/placement/expert_placement.h"

namespace moescope::placement {

// n_experts: [MoE layers]. Throws moescope::Error when E + redundant does not divide over the
// devices.
Placement contiguous_placement(const std::vector<int32_t>& n_experts, const Topology& topology,
                               int32_t redundant);

}  // namespace moescope::placement
