#include "engine/placement/contiguous.h"

#include "engine/common/error.h"

namespace moescope::placement {

Placement contiguous_placement(const std::vector<int32_t>& n_experts, const Topology& topology,
                               int32_t redundant) {
  topology.validate();
  if (redundant < 0) fail("--redundant must not be negative, not {}", redundant);
  Placement placement{.algorithm = "contiguous", .topology = topology, .layers = {}};
  for (int32_t experts : n_experts) {
    const int32_t slots = experts + redundant;
    if (slots % topology.devices != 0)
      fail("{} experts + {} redundant do not divide over {} devices (choose --redundant so that "
           "they do)",
           experts, redundant, topology.devices);
    LayerPlacement layer;
    layer.slots_per_device = slots / topology.devices;
    for (int32_t s = 0; s < slots; ++s) layer.phy2log.push_back(ExpertId(s % experts));
    placement.layers.push_back(std::move(layer));
  }
  return placement;
}

}  // namespace moescope::placement
