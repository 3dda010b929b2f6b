#pragma once
// Routing statistics of a trace (definitions: the shared docs/policies.md, "Metrics").
#include <cstdint>
#include <vector>

#include "engine/common/ids.h"
#include "engine/policy/local_consistency.h"
#include "engine/policy/routing_trace.h"

namespace moescope::policy {

struct LayerRoutingStats {
  std::vector<int64_t> load;  // [n_experts] activations per expert
  int64_t activations = 0;
  int64_t tokens = 0;
  double jain_fairness = 0;        // (sum x)^2 / (n sum x^2): 1 = even, 1/n = one expert
  double load_entropy_bits = 0;    // entropy of the load distribution
  double router_entropy_bits = 0;  // mean entropy of a token's router probabilities (NaN if absent)
  int32_t hot_set_80 = 0;          // fewest experts covering >= 80 % of activations
  double slots_used_share = 0;     // share of the layer's experts routed to at least once
};

struct RoutingStats {
  std::vector<LayerRoutingStats> layers;
  double slots_used_share = 0;  // over every (l, e)
};

RoutingStats routing_stats(const RoutingTrace& trace, PhaseFilter filter = PhaseFilter::kAll);

// P(e' at l+1 | e at l) over all pairs of selected experts of one token: row-major
// [n_experts[l]][n_experts[l+1]]; a row never observed is all zero. l < n_layers - 1.
std::vector<double> affinity_matrix(const RoutingTrace& trace, MoeLayerId l,
                                    PhaseFilter filter = PhaseFilter::kAll);

// Plug-in estimates, in bits, over tokens with at least one expert at both layers. Top-1 only:
// each token contributes its highest-weight expert of each layer, not its whole top-k set.
double top1_entropy(const RoutingTrace& trace, MoeLayerId l,
                    PhaseFilter filter = PhaseFilter::kAll);
double top1_mutual_information(const RoutingTrace& trace, MoeLayerId l,
                               PhaseFilter filter = PhaseFilter::kAll);  // layers l and l+1

}  // namespace moescope::policy
