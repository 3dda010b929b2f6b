#include "engine/placement/expert_placement.h"

#include "engine/common/error.h"

namespace moescope::placement {

LayerReplicas::LayerReplicas(const LayerPlacement& layer, int32_t n_experts)
    : devices(size_t(n_experts)) {
  for (int32_t s = 0; s < layer.n_slots(); ++s)
    devices[size_t(layer.phy2log[size_t(s)].value)].push_back(layer.device_of_slot(s));
}

std::vector<int32_t> replica_counts(const LayerPlacement& layer, int32_t n_experts) {
  std::vector<int32_t> counts(static_cast<size_t>(n_experts), 0);
  for (ExpertId e : layer.phy2log) ++counts[size_t(e.value)];
  return counts;
}

void validate(const Placement& placement, const std::vector<int32_t>& n_experts) {
  placement.topology.validate();
  if (placement.layers.size() != n_experts.size())
    fail("placement '{}' has {} layers, the trace {}", placement.algorithm,
         placement.layers.size(), n_experts.size());
  for (size_t l = 0; l < n_experts.size(); ++l) {
    const LayerPlacement& layer = placement.layers[l];
    if (layer.slots_per_device <= 0 ||
        int64_t(layer.slots_per_device) * placement.topology.devices != layer.n_slots())
      fail("placement '{}' layer {}: {} slots do not fill {} devices evenly", placement.algorithm,
           l, layer.n_slots(), placement.topology.devices);
    std::vector<int32_t> seen(size_t(n_experts[l]), 0);
    for (ExpertId e : layer.phy2log) {
      if (e.value < 0 || e.value >= n_experts[l])
        fail("placement '{}' layer {}: expert {} out of range", placement.algorithm, l, e.value);
      ++seen[size_t(e.value)];
    }
    for (size_t e = 0; e < seen.size(); ++e)
      if (seen[e] == 0)
        fail("placement '{}' layer {}: expert {} has no replica", placement.algorithm, l, e);
  }
}

LayerPlacement layer_from_devices(const std::vector<int32_t>& device_of, int32_t devices) {
  LayerPlacement layer;
  layer.slots_per_device = static_cast<int32_t>(device_of.size()) / devices;
  for (int32_t d = 0; d < devices; ++d)
    for (size_t e = 0; e < device_of.size(); ++e)
      if (device_of[e] == d) layer.phy2log.push_back(ExpertId(static_cast<int32_t>(e)));
  return layer;
}

}  // namespace moescope::placement
