#pragma once
// Where the experts of every MoE layer live: a physical->logical map per layer, the form SGLang,
// vLLM and DeepSeek's EPLB use. A layer has P physical expert slots (P = E + redundant); slot s
// lives on device s / (P / G) and holds a copy of logical expert phy2log[s]. Every logical expert
// has at least one replica.
#include <cstdint>
#include <string>
#include <vector>

#include "engine/common/ids.h"
#include "engine/placement/topology.h"

namespace moescope::placement {

struct LayerPlacement {
  std::vector<ExpertId> phy2log;  // [physical slots] logical expert held by each slot
  int32_t slots_per_device = 0;

  int32_t n_slots() const { return static_cast<int32_t>(phy2log.size()); }
  DeviceId device_of_slot(int32_t slot) const { return DeviceId(slot / slots_per_device); }
};

struct Placement {
  std::string algorithm;  // "contiguous", "eplb", "affinity", "joint"
  Topology topology;
  std::vector<LayerPlacement> layers;  // [MoE layers]

  int32_t n_layers() const { return static_cast<int32_t>(layers.size()); }
};

// Replicas of each logical expert of one layer, resolved for fast lookups.
struct LayerReplicas {
  // [n_experts][replicas] devices holding logical expert e, in slot order.
  std::vector<std::vector<DeviceId>> devices;

  LayerReplicas(const LayerPlacement& layer, int32_t n_experts);
  int32_t count(ExpertId e) const { return static_cast<int32_t>(devices[e.value].size()); }
};

// Replica count of every logical expert of a layer ("logical count" of EPLB).
std::vector<int32_t> replica_counts(const LayerPlacement& layer, int32_t n_experts);

// Checks that every layer has slots divisible over the devices, ids in range and every logical
// expert placed at least once. Throws moescope::Error.
void validate(const Placement& placement, const std::vector<int32_t>& n_experts);

// A placement built from one device per logical expert (no replicas): slot order groups the
// experts device by device, in expert order within a device. device_of[e] must put exactly
// E / G experts on each device.
LayerPlacement layer_from_devices(const std::vector<int32_t>& device_of, int32_t devices);

}  // namespace moescope::placement
