#pragma once
// Capacity-aware gating (capacity_aware.h) installed in the forward pass: a RoutingOverride that
// rewrites each forward call's routing per MoE layer, so one step's tokens share each expert's
// capacity. LOSSY: the model computes something else; labelled so wherever it runs.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "engine/common/ids.h"
#include "engine/model/routing.h"
#include "engine/model/routing_override.h"

namespace moescope::batching {

struct CapacityOptions {
  double gamma = 1.0;  // capacity factor γ
  int64_t expand = 1;  // m: 1 = Token Drop, > 1 = Expanded Drop over the top-(k·m)
  // D > 0: the capacity bounds each of D expert-parallel devices (experts placed contiguously,
  // expert e on device floor(e·D/E)), C = ceil(γ·k·T/D); 0: each expert, C = ceil(γ·k·T/E).
  int64_t devices = 0;
  // "capacity token-drop γ=1" / "capacity expanded-drop γ=1.5 m=2" / "... per device D=4"
  std::string describe() const;
};

// One (forward call, MoE layer): the balance before and after the capacity rule. The straggler
// factor is max/mean tokens per expert, or per device when the capacity is per device (the unit
// whose load sets the layer's time).
struct CapacityRecord {
  LayerId layer;
  int32_t n_tokens = 0;
  int64_t capacity = 0;  // per expert or per device; 0: no limit (one token)
  double straggler_before = 0, straggler_after = 0;
  int64_t routings = 0;  // top-k routings before the rule (token-expert pairs)
  int64_t dropped = 0;   // of which not run
  int64_t rerouted = 0;  // routings to candidates beyond a token's top-k
};

// Totals over a run's records: routings, drops and reroutes, and the straggler factor averaged
// over (forward call, MoE layer).
struct CapacityTotals {
  int64_t routings = 0, dropped = 0, rerouted = 0;
  double mean_straggler_before = 0, mean_straggler_after = 0;
  double dropped_fraction() const { return routings ? double(dropped) / double(routings) : 0.0; }
  double rerouted_fraction() const { return routings ? double(rerouted) / double(routings) : 0.0; }
};
CapacityTotals capacity_totals(std::span<const CapacityRecord> records);

class CapacityGating final : public RoutingOverride {
 public:
  // routing: the model's (routing_params): how logits become probabilities and whether the kept
  // experts' weights are renormalised. Throws for gamma <= 0, expand < 1, devices < 0 or more
  // devices than the model's experts.
  CapacityGating(CapacityOptions options, const RoutingParams& routing);

  int32_t adjust(const RoutingChoice& choice) override;
  void adjust_batch(const BatchRoutingChoice& choice) override;

  const CapacityOptions& options() const { return options_; }
  // In call order: one per (forward call, MoE layer).
  const std::vector<CapacityRecord>& records() const { return records_; }

 private:
  CapacityOptions options_;
  RoutingParams routing_;
  std::vector<float> probs_;        // [n][n_expert]
  std::vector<int32_t> device_of_;  // [n_expert] with devices > 0: each expert's device
  std::vector<CapacityRecord> records_;
};

}  // namespace moescope::batching
