#pragma once
// Capacity-Aware Inference (He et al., arXiv 2503.05066, ICLR 2026): a LOSSY gating variant on
// batches that bounds how many tokens any expert takes in one step, so the slowest (most loaded)
// expert stops setting the layer's time.
//  - capacity C = ceil(γ · k · T / E) per expert for a step of T tokens (at least 1); no limit
//    when T <= 1 (batch-1 decode is unaffected), as the paper's code does.
//  - Token Drop: every token picks its top-k experts by router probability; an expert picked by
//    more than C tokens keeps the C tokens with the highest probability for it (ties: the
//    earlier token) and drops the rest.
//  - Expanded Drop: every token first takes its top-(k·m) candidates; capacity applies to the
//    candidates as above; then each token keeps its top-k among the candidates that survived.
//  - Per device (expert parallelism over D devices; the paper's code's `capacity_scope=device`):
//    the capacity bounds each device instead of each expert, C = ceil(γ · k · T / D) routings per
//    device; expert e lives on device floor(e · D / E) (contiguous, as the paper's code places
//    them) or wherever a placement puts it. A device over capacity keeps the C candidate routings
//    (token, expert on it) with the highest probability (ties: the earlier token, then the token's
//    better-ranked candidate); each token then keeps its top-k among its surviving candidates, as
//    for Expanded Drop (m = 1: Token Drop per device).
//  - A token left with no expert falls back to its most probable expert (outside the capacity),
//    as the paper's code does, so no token loses its FFN entirely.
// The result lists each token's experts by descending probability.
#include <cstdint>
#include <span>
#include <vector>

namespace moescope::batching {

// ceil(gamma * k * n_tokens / n_expert), at least 1; 0 (no limit) when n_tokens <= 1.
int64_t expert_capacity(double gamma, int64_t k, int64_t n_tokens, int64_t n_expert);

// ceil(gamma * k * n_tokens / n_devices), at least 1; 0 (no limit) when n_tokens <= 1.
int64_t device_capacity(double gamma, int64_t k, int64_t n_tokens, int64_t n_devices);

// device_of[e] = floor(e * n_devices / n_expert): E experts spread contiguously over D devices.
std::vector<int32_t> contiguous_devices(int64_t n_expert, int64_t n_devices);

struct CapacitySelection {
  int64_t n_tokens = 0, k = 0;
  std::vector<int32_t> experts;  // [n_tokens][k], best first; -1 pads a token that kept fewer
  std::vector<int32_t> n_kept;   // [n_tokens] 1 .. k
  int64_t dropped = 0;           // top-k routings (token, expert) not in the result
  int64_t rerouted = 0;          // result routings outside the token's top-k (expanded drop)
  int64_t fallbacks = 0;         // tokens that kept only their argmax fallback
};

// probs[n_tokens][n_expert] (row-major). candidates_per_token = k for Token Drop, k·m for
// Expanded Drop (clamped to n_expert). capacity 0 = no limit.
CapacitySelection capacity_select(std::span<const float> probs, int64_t n_tokens, int64_t n_expert,
                                  int64_t k, int64_t candidates_per_token, int64_t capacity);

// The same with the capacity per device: device_of[e] (0 .. n_devices - 1) is expert e's device,
// capacity the routings each device takes (0 = no limit).
CapacitySelection capacity_select_per_device(std::span<const float> probs, int64_t n_tokens,
                                             int64_t n_expert, int64_t k,
                                             int64_t candidates_per_token, int64_t capacity,
                                             std::span<const int32_t> device_of, int64_t n_devices);

// Tokens per device of a selection (pads skipped).
std::vector<int64_t> device_loads(const CapacitySelection& s, std::span<const int32_t> device_of,
                                  int64_t n_devices);

// Tokens per expert of a selection (pads skipped).
std::vector<int64_t> expert_loads(const CapacitySelection& s, int64_t n_expert);
// Straggler factor: the most loaded expert's tokens over the mean over all n_expert experts
// (0 when nothing is routed).
double straggler_factor(std::span<const int64_t> loads);

}  // namespace moescope::batching
