#pragma once
// Local routing consistency as Liang et al. define it in "Not All Models Suit Expert Offloading:
// On Local Routing Consistency of Mixture-of-Expert Models" (arXiv 2505.16056, §3; released code
// ljcleo/moe-lrc, src/30_srp_calc.py, 31_srp_refine.py, 41_sch_calc.py). Formulas, conventions and
// the JSON keys that carry them: docs/suitability.md.
//
// Segments are the windows of m consecutive selected tokens of the trace, one per start position
// (T - m + 1 of them, stride 1), in trace order.
#include <cstdint>
#include <limits>
#include <vector>

#include "engine/policy/routing_trace.h"

namespace moescope::policy {

// Segment Routing best Performance, SRP(m). In a segment w of m tokens let c_we be the tokens that
// route to expert e. For a threshold j in 0..m the fixed set predicted for the segment is
// {e : c_we >= j}, predicted for each of its m tokens. Pooled over segments (and experts):
//   M(j) = sum_w sum_{e: c_we >= j} c_we          correct predictions
//   P(j) = m * sum_w |{e : c_we >= j}|             predictions
//   A    = sum_w sum_e c_we                        activations (= M(0))
//   F1(j) = 2 M(j) / (P(j) + A)                    (denominator at least 1)
//   SRP(m) = max_j F1(j)
// A layer's SRP pools that layer's segments; the model-level SRP pools every layer's counts and
// takes one threshold for all of them (the paper's model-level value). SRP >= 2k/(n + k), the
// value at j = 0 (every expert predicted), which uniform routing approaches as m grows.
struct SrpScore {
  static constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  int32_t m = 0;
  std::vector<double> per_layer;             // [n_layers] NaN when the trace has fewer than m
  std::vector<int32_t> per_layer_threshold;  // [n_layers] best j, -1 with NaN
  double model = kNaN;                       // one pool over all layers
  int32_t model_threshold = -1;
};
SrpScore segment_routing_performance(const RoutingTrace& trace, int32_t m,
                                     PhaseFilter filter = PhaseFilter::kAll);

// SRP's floor: 2 sum_l k_l / (sum_l n_l + sum_l k_l), the model-level F1 of predicting every
// expert (for one layer, 2k/(n+k)).
double srp_floor(const MoeShape& shape);

// Not the paper's metric (MoEScope's earlier reading of it, kept under its own name): per layer,
// the share of a segment's activations that its best k experts cover, averaged over segments.
// per_layer[l] in [k/n, 1]; mean_of_layers averages the layers that have a value.
struct WindowCoverage {
  int32_t m = 0;
  std::vector<double> per_layer;
  double mean_of_layers = SrpScore::kNaN;
};
WindowCoverage best_k_window_coverage(const RoutingTrace& trace, int32_t m,
                                      PhaseFilter filter = PhaseFilter::kAll);

// Segment Cache best Hit rate, SCH(m, C): the hit rate of the cache that, on a miss with no free
// slot, evicts the resident expert with the fewest uses in the segment [t, t + m) of the next m
// tokens starting at the running token t (ties: least recently used), replayed token by token.
// Per layer: a cache of slots[l] in every layer. The paper's model-level value: one pool of
// sum_l slots[l] shared by all layers (experts keyed by (layer, expert)).
struct SchScore {
  int32_t m = 0;
  std::vector<double> per_layer;             // [n_layers] per-layer caches, layer l's hit rate
  double per_layer_caches = SrpScore::kNaN;  // those per-layer caches, all accesses together
  double model = SrpScore::kNaN;             // one global pool of sum_l slots[l]
};
SchScore segment_cache_hit_rate(const RoutingTrace& trace, int32_t m,
                                const std::vector<int32_t>& slots,
                                PhaseFilter filter = PhaseFilter::kAll);
SchScore segment_cache_hit_rate(const RoutingTrace& trace, int32_t m, int32_t slots_per_layer,
                                PhaseFilter filter = PhaseFilter::kAll);
// Several caches in one pass over the trace (engine/policy/segment_cache.cpp): one SchScore per
// entry of `slots` (each the slots of every layer), as segment_cache_hit_rate would give. Memory
// O(experts); time O(accesses x caches x log slots).
std::vector<SchScore> segment_cache_hit_rates(const RoutingTrace& trace, int32_t m,
                                              const std::vector<std::vector<int32_t>>& slots,
                                              PhaseFilter filter = PhaseFilter::kAll);

}  // namespace moescope::policy
