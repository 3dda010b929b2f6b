#pragma once
// A MoETuner-like joint placement (after Go & Mahajan, "MoETuner: Optimized Mixture of Expert
// Serving with Balanced Expert Placement and Token Routing", arXiv 2502.06643): one objective for
// load balance and inter-device traffic. A layer takes as long as its slowest device, and a
// device's cost is the tokens its experts compute plus beta times the tokens that arrive from
// another device since the previous layer:
//   minimise sum_l max_g ( load[l][g] + beta * recv[l][g] )
// (recv as in device_assignment.h; beta = time to move one token between devices / time to
// compute one token on one expert). No redundant experts; E / G experts per device. MoETuner
// solves an ILP; MoEScope searches: it starts from the load-balanced packing (EPLB's packing
// without replicas) and from the affinity placement, and swaps experts while the objective drops
// (ties broken towards a flatter spread of device costs).
#include "engine/placement/device_assignment.h"

namespace moescope::placement {

struct JointResult {
  Placement placement;
  double cost = 0;             // the objective reached (token units)
  double contiguous_cost = 0;  // the same objective for the contiguous placement
};

JointResult joint_placement(const ExpertStatistics& stats, const Topology& topology, double beta,
                            int32_t max_passes = 50);

}  // namespace moescope::placement
