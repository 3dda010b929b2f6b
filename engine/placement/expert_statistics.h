#pragma once
// What the placement algorithms fit on, gathered in one pass over a span of tokens: the load of
// every expert (tokens routed to it) and the inter-layer transition counts ExFlow places by,
// A_l[i][p] = number of (token, i, p) with i among the token's experts at MoE layer l and p among
// its experts at layer l + 1 (with top-k routing a token contributes k_l * k_{l+1} pairs).
#include <cstdint>
#include <vector>

#include "engine/placement/routing_source.h"

namespace moescope::placement {

struct ExpertStatistics {
  std::vector<int32_t> n_experts;          // [layers]
  int64_t tokens = 0;
  std::vector<std::vector<double>> load;   // [layers][experts]
  // [layers - 1] row-major [n_experts(l)][n_experts(l + 1)].
  std::vector<std::vector<double>> transitions;

  double transition(int32_t l, int32_t i, int32_t p) const {
    return transitions[size_t(l)][size_t(i) * size_t(n_experts[size_t(l + 1)]) + size_t(p)];
  }
};

// with_transitions = false gathers the loads only (transitions stay empty).
ExpertStatistics gather_statistics(const RoutingSource& source, TokenSpan span,
                                   bool with_transitions = true);

}  // namespace moescope::placement
