#pragma once
// The seam for gating variants that change the computation (lossy, and always labelled so): after
// the router has chosen a token's experts and before they are reported and run, an override may
// drop trailing experts (adaptive top-k) or put other experts in their places (cache-aware
// substitution). Exact runs install none and compute exactly what the model defines.
#include <cstdint>
#include <span>

#include "engine/common/ids.h"

namespace moescope {

// One token's routing at one MoE layer, as route_token produced it. The override edits it in
// place: it may replace experts (no expert twice, ids < n_expert) with their weights and scores,
// and it returns how many of the leading slots stay (1 .. k); the rest are not run.
struct RoutingChoice {
  LayerId layer;
  TokenPos pos;
  int32_t n_tokens = 1;                  // tokens in the forward call (1 = decode)
  std::span<const float> router_logits;  // [n_expert]
  std::span<ExpertId> experts;           // [k] best first
  std::span<float> weights;              // [k] mixing weights
  std::span<float> scores;               // [k] selection scores
};

class RoutingOverride {
 public:
  virtual ~RoutingOverride() = default;
  // Called on the forward pass's thread, token by token, before the observer hears of the choice.
  virtual int32_t adjust(const RoutingChoice& choice) = 0;
};

}  // namespace moescope
