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

// A whole forward call's routing at one MoE layer, for variants that decide over the batch
// (capacity-aware gating): row t's slots are experts[t * k ..], of which the first n_kept[t] run.
// The override may edit every row as adjust() may edit one, and set n_kept[t] to 1 .. k.
struct BatchRoutingChoice {
  LayerId layer;
  int32_t n_tokens = 0;
  int32_t k = 0;
  int32_t n_expert = 0;
  std::span<const float> router_logits;  // [n_tokens][n_expert]
  std::span<ExpertId> experts;           // [n_tokens][k] best first
  std::span<float> weights;              // [n_tokens][k]
  std::span<float> scores;               // [n_tokens][k]
  std::span<int64_t> n_kept;             // [n_tokens]
};

class RoutingOverride {
 public:
  virtual ~RoutingOverride() = default;
  // Called on the forward pass's thread, token by token, before the observer hears of the choice.
  virtual int32_t adjust(const RoutingChoice& choice) = 0;
  // Called once per MoE layer of a forward call, after adjust() has seen every token and before
  // the observer hears of any. The default keeps the choices.
  virtual void adjust_batch(const BatchRoutingChoice& choice) { (void)choice; }
};

}  // namespace moescope
