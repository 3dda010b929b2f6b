#pragma once
// Expert-parallel simulation of a routing on a placement (docs/placement.md):
// - every token starts at its home device, request % G (data-parallel attention keeps a
//   request's hidden states on one device);
// - at each MoE layer it goes to the devices holding its experts; an expert with several
//   replicas is served by the replica on the home device if there is one, else by one on the
//   home node, else by one of the others, chosen per home device so that the home devices share
//   the replicas fairly (SGLang's "static" dispatch, deterministic instead of seeded-random);
// - dispatch sends the token once to every distinct destination device other than home on the
//   home node (intra-node link) and once to every other node that holds a destination (inter-node
//   link; DeepEP forwards it inside that node over NVLink, not counted again); combine sends the
//   results back the same way (same bytes);
// - device load = routed (token, expert) pairs its experts compute; balancedness = mean / max of
//   the device loads, straggler = max / mean (SGLang's and the Capacity-Aware paper's metrics);
// - same-device pairs (ExFlow) = transition pairs (expert at layer l, expert at layer l + 1 of
//   one token) served on the same device;
// - modelled MoE-layer time per step = dispatch + expert compute + combine, each set by the
//   slowest device: link time = intra bytes / intra bandwidth + inter bytes / inter bandwidth of
//   the busiest sender, compute = largest device load * time per (token, expert).
#include <cstdint>
#include <string>
#include <vector>

#include "engine/placement/expert_placement.h"
#include "engine/placement/routing_source.h"

namespace moescope::placement {

struct SimOptions {
  int64_t hidden = 4096;           // hidden size (elements per token message)
  int32_t dtype_bytes = 2;         // bytes per element (BF16)
  double intra_gbps = 150;         // per-device intra-node bandwidth, GB/s (NVLink, DeepEP)
  double inter_gbps = 50;          // per-device inter-node bandwidth, GB/s (RDMA)
  double expert_ns = 250;          // compute time of one token on one expert
  // Throws moescope::Error on a non-positive size or bandwidth.
  void validate() const;
  double token_bytes() const { return double(hidden) * double(dtype_bytes); }
};

struct LayerMetrics {
  std::vector<double> device_load;   // [devices] over the span
  double balancedness = 0;           // mean / max of device_load
  double step_balancedness = 0;      // mean over steps of the step's mean / max
  double step_straggler = 0;         // mean over steps of the step's max / mean
  double dispatch_intra_bytes = 0, dispatch_inter_bytes = 0;
  double combine_intra_bytes = 0, combine_inter_bytes = 0;
  double same_device_pairs = 0, pairs = 0;  // to the next layer; 0 for the last layer
  double dispatch_ns = 0, compute_ns = 0, combine_ns = 0;  // summed over steps
  double time_ns() const { return dispatch_ns + compute_ns + combine_ns; }
};

struct PlacementMetrics {
  std::string algorithm;
  int64_t tokens = 0;
  int64_t steps = 0;
  int32_t devices = 0;
  std::vector<LayerMetrics> layers;
  // [devices][devices] token messages dispatched from a home device to a destination device,
  // summed over layers (the all-to-all matrix; the diagonal is work kept at home).
  std::vector<double> traffic;

  double balancedness() const;       // mean over layers of LayerMetrics::balancedness
  double step_balancedness() const;  // mean over layers
  double step_straggler() const;     // mean over layers
  double intra_bytes() const;        // dispatch + combine
  double inter_bytes() const;
  double same_device_fraction() const;  // NaN without pairs
  double time_ns() const;               // sum over layers
};

// One pass over the span for all placements at once.
std::vector<PlacementMetrics> simulate(const RoutingSource& source, TokenSpan span,
                                       const std::vector<Placement>& placements,
                                       const SimOptions& options);

}  // namespace moescope::placement
