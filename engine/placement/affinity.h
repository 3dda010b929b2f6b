#pragma once
// ExFlow's inter-layer affinity placement (Yao et al., "Exploiting Inter-Layer Expert Affinity
// for Accelerating Mixture-of-Experts Model Inference", arXiv 2401.08383): place the experts of
// every MoE layer, E / G per device and no replicas, so that as many transition pairs as possible
// (a token's expert at layer l and its expert at layer l + 1) sit on the same device:
//   maximise sum_l sum_{i,p} A_l[i][p] * [device_l(i) == device_{l+1}(p)].
// Small cases are solved exactly: the layers form a chain, so dynamic programming over every
// balanced assignment of each layer finds the optimum. Larger ones use a greedy chain (each layer
// placed after the previous one, heaviest expert-device affinity first) and the contiguous
// placement as starts, improved by block coordinate ascent (each layer in turn re-placed
// optimally given both neighbours: a linear assignment, solved exactly by the Hungarian
// algorithm) until a sweep gains nothing; the result is
// reported with an upper bound: for every layer pair, each expert can share its device with at
// most E / G experts of the neighbouring layer, so sum_p (largest E_l / G entries of column p of
// A_l), or the same over rows, whichever is smaller, bounds the pairs kept.
#include <cstdint>

#include "engine/placement/device_assignment.h"

namespace moescope::placement {

struct AffinityResult {
  Placement placement;
  double colocated = 0;    // objective reached (transition pairs kept on a device)
  double total = 0;        // all transition pairs
  double upper_bound = 0;  // the optimum is at most this (equal to colocated when exact)
  bool exact = false;
};

struct AffinityOptions {
  // Solve exactly when no layer has more balanced assignments than this.
  int64_t exact_limit = 3000;
  int32_t max_passes = 50;  // coordinate-ascent sweeps
};

// Throws moescope::Error when a layer's experts do not divide over the devices.
AffinityResult affinity_placement(const ExpertStatistics& stats, const Topology& topology,
                                  AffinityOptions options = {});

// The number of ways to put E experts on G devices, E / G on each (saturating at limit + 1).
int64_t balanced_assignments(int32_t experts, int32_t devices, int64_t limit);

double affinity_upper_bound(const ExpertStatistics& stats, int32_t devices);

}  // namespace moescope::placement
