#pragma once
// Router entropy: how undecided the router is about a token, in bits. The router's logits are
// turned into a distribution over all experts the way the model's gating function scores them
// (softmax, or normalised sigmoid / sqrt-softplus scores), and H = -sum p log2 p. 0 bits: one
// expert takes everything; log2(n_expert): the router cannot tell the experts apart.
#include <span>

#include "engine/model/hparams.h"

namespace moescope::views {

float router_entropy_bits(std::span<const float> router_logits, GatingFunc gating);

// The fallback when the full logits are not known (a trace recorded without them): the entropy
// of the selected experts' mixing weights normalised to sum 1. It sees only the top-k, so it is
// at most log2(k) and says how evenly the token split itself among its chosen experts.
float topk_weight_entropy_bits(std::span<const float> weights);

}  // namespace moescope::views
