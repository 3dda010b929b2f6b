#include "engine/placement/joint.h"

#include <vector>

#include "engine/placement/affinity.h"
#include "engine/placement/eplb.h"

namespace moescope::placement {
namespace {

DeviceAssignment balanced_assignment(const ExpertStatistics& stats, int32_t devices) {
  DeviceAssignment a;
  for (const std::vector<double>& load : stats.load) {
    std::vector<int32_t> dev = balanced_packing(std::vector<float>(load.begin(), load.end()), devices).first;
    a.push_back(std::move(dev));
  }
  return a;
}

}  // namespace

JointResult joint_placement(const ExpertStatistics& stats, const Topology& topology, double beta,
                            int32_t max_passes) {
  topology.validate();
  const int32_t g = topology.devices;
  check_divisible(stats.n_experts, g, "joint");
  const SearchWeights w{.max_weight = 1, .beta = beta, .cross_weight = 0};
  DeviceAssignment best = local_search(stats, balanced_assignment(stats, g), g, w, max_passes);
  double best_cost = search_cost(stats, best, g, w);
  AffinityOptions affinity_options;
  affinity_options.max_passes = max_passes;
  const AffinityResult affinity = affinity_placement(stats, topology, affinity_options);
  DeviceAssignment from_affinity;
  for (const LayerPlacement& layer : affinity.placement.layers) {
    std::vector<int32_t> dev(layer.phy2log.size());
    for (int32_t s = 0; s < layer.n_slots(); ++s)
      dev[size_t(layer.phy2log[size_t(s)].value)] = layer.device_of_slot(s).value;
    from_affinity.push_back(std::move(dev));
  }
  from_affinity = local_search(stats, std::move(from_affinity), g, w, max_passes);
  if (const double c = search_cost(stats, from_affinity, g, w); c < best_cost)
    best = std::move(from_affinity), best_cost = c;
  JointResult r;
  r.cost = best_cost;
  r.contiguous_cost = search_cost(stats, contiguous_assignment(stats.n_experts, g), g, w);
  r.placement = to_placement(best, topology, "joint");
  return r;
}

}  // namespace moescope::placement
