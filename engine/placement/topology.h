#pragma once
// The machines an expert-parallel deployment runs on: G devices (GPUs, EP ranks) spread evenly
// over N nodes. Devices of one node talk over the fast intra-node link (NVLink), devices of
// different nodes over the slower inter-node network (RDMA). Device d lives on node d / (G / N),
// as SGLang and DeepEP number ranks.
#include <compare>
#include <cstdint>

#include "engine/common/ids.h"

namespace moescope::placement {

using DeviceId = StrongId<struct DeviceTag>;
using NodeId = StrongId<struct NodeTag>;
// The request (sequence) a token belongs to: in data-parallel attention its hidden state lives on
// the request's device, which is where the all-to-all starts and ends.
struct RequestId {
  int64_t value = 0;
  constexpr auto operator<=>(const RequestId&) const = default;
};

struct Topology {
  int32_t devices = 1;
  int32_t nodes = 1;

  int32_t devices_per_node() const { return devices / nodes; }
  NodeId node_of(DeviceId d) const { return NodeId(d.value / devices_per_node()); }
  // Throws moescope::Error unless 1 <= nodes <= devices, devices % nodes == 0 and devices is
  // at most 4096.
  void validate() const;
};

}  // namespace moescope::placement
