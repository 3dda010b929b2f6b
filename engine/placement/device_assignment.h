#pragma once
// Placements without redundant experts, as one device per expert and MoE layer, and the local
// search the affinity (ExFlow) and joint (MoETuner-like) placements share: swap two experts of a
// layer between devices while that lowers
//   cost = max_weight * sum_l max_g (load[l][g] + beta * recv[l][g])
//        + cross_weight * sum_l sum_g recv[l][g]
// where load[l][g] = tokens routed to experts on device g at layer l and recv[l][g] = transition
// pairs that arrive at g at layer l from an expert on another device at layer l - 1 (recv[0] = 0).
// Every device keeps exactly E / G experts of every layer.
#include <cstdint>
#include <vector>

#include "engine/placement/expert_placement.h"
#include "engine/placement/expert_statistics.h"

namespace moescope::placement {

using DeviceAssignment = std::vector<std::vector<int32_t>>;  // [layers][experts] device

// Throws moescope::Error unless every layer's experts divide evenly over the devices.
void check_divisible(const std::vector<int32_t>& n_experts, int32_t devices, const char* what);

DeviceAssignment contiguous_assignment(const std::vector<int32_t>& n_experts, int32_t devices);
Placement to_placement(const DeviceAssignment& assignment, const Topology& topology,
                       const char* algorithm);

// Transition pairs whose two experts share a device (ExFlow's objective), and all pairs.
double colocated_pairs(const ExpertStatistics& stats, const DeviceAssignment& assignment);
double total_pairs(const ExpertStatistics& stats);

struct SearchWeights {
  double max_weight = 0;    // weight of the per-layer straggler term
  double beta = 1;          // cost of one arriving token relative to one expert computation
  double cross_weight = 0;  // weight of all cross-device pairs
};

double search_cost(const ExpertStatistics& stats, const DeviceAssignment& assignment,
                   int32_t devices, const SearchWeights& weights);

// First-improvement swap search until no swap helps or max_passes passes over all pairs.
DeviceAssignment local_search(const ExpertStatistics& stats, DeviceAssignment start,
                              int32_t devices, const SearchWeights& weights, int32_t max_passes);

}  // namespace moescope::placement
