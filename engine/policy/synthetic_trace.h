#pragma once
// Synthetic routing traces with known structure, for tests, benchmarks and demos.
#include <cstdint>

#include "engine/policy/routing_trace.h"

namespace moescope::policy {

struct SyntheticSpec {
  enum class Kind : uint8_t {
    kUniform,   // every token picks k distinct experts uniformly
    kZipf,      // popularity ~ 1 / rank^zipf_s, a random rank order per layer
    kBursty,    // Zipf, but for stretches of ~burst_len tokens most picks come from a hot set of 2k
    kConstant,  // every token picks experts 0..k-1
  };
  Kind kind = Kind::kZipf;
  int32_t n_layers = 4;
  int32_t n_experts = 16;
  int32_t top_k = 2;
  int64_t n_tokens = 256;
  int64_t n_prefill = 0;  // the first n_prefill tokens are prefill
  uint64_t expert_bytes = 1 << 20;
  uint64_t seed = 1;
  double zipf_s = 1.0;
  int32_t burst_len = 16;
  double burst_share = 0.8;  // share of picks drawn from the hot set in kBursty
  // Probability that a token's top-1 at layer l+1 is a fixed function of its top-1 at layer l
  // (inter-layer affinity); 0 = independent layers.
  double affinity = 0;
  bool with_probs = false;
};

RoutingTrace synthetic_trace(const SyntheticSpec& spec);

}  // namespace moescope::policy
