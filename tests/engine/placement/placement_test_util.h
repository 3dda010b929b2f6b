#pragma once
// Small routings for the placement tests.
#include <random>
#include <vector>

#include "engine/policy/routing_trace.h"
#include "engine/policy/synthetic_trace.h"

namespace moescope::placement::testing {

// routing[t][l] = experts of token t at MoE layer l.
inline policy::RoutingTrace make_routing(const std::vector<std::vector<std::vector<int>>>& routing,
                                         int n_experts) {
  const int layers = int(routing.at(0).size());
  int k = 1;
  for (const auto& tok : routing)
    for (const auto& l : tok) k = std::max(k, int(l.size()));
  policy::RoutingTraceBuilder b(policy::MoeShape::uniform(layers, n_experts, k, 1000), false);
  for (const auto& tok : routing) {
    b.begin_token(policy::Phase::kDecode);
    for (const auto& l : tok) {
      std::vector<ExpertId> e;
      std::vector<float> w;
      for (int x : l) e.push_back(ExpertId(x)), w.push_back(1.0f / float(l.size()));
      b.add_layer(e, w);
    }
  }
  return b.finish();
}

// A Zipf routing with inter-layer affinity.
inline policy::RoutingTrace affine_routing(int layers, int experts, int k, int tokens,
                                           double affinity, uint64_t seed) {
  policy::SyntheticSpec spec;
  spec.n_layers = layers;
  spec.n_experts = experts;
  spec.top_k = k;
  spec.n_tokens = tokens;
  spec.affinity = affinity;
  spec.seed = seed;
  return policy::synthetic_trace(spec);
}

}  // namespace moescope::placement::testing
