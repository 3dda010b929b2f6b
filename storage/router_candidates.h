#pragma once
// The router's best candidates of a token (schema 4, table router_candidates): what the lossy
// variants that choose beyond the top-k need (Capacity-Aware Inference's Expanded Drop picks among
// each token's top-(k·m)). At MoE layer l a token keeps m(l) = min(2·top_k(l), n_experts(l))
// candidates, its most probable experts best first, with their router probabilities under the
// run's gating, before any variant changed the routing. One row per forwarded token:
//
//   experts  uint8 or uint16[Σ m(l)]   (the routing blob's id width), layer after layer
//   scores   float32[Σ m(l)]
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "engine/common/ids.h"
#include "engine/policy/moe_shape.h"

namespace moescope::storage {

// m(l) = min(2 * top_k(l), n_experts(l)).
int32_t router_candidates_at(const policy::MoeShape& shape, int32_t layer);
// [n_layers + 1]: where each layer's candidates start in a token's row (the last: Σ m(l)).
std::vector<int64_t> router_candidate_offsets(const policy::MoeShape& shape);

// The m most probable experts of probs[n_experts] into experts[m] / scores[m], best first (ties:
// the lower index first, as the router ranks them).
void top_router_candidates(std::span<const float> probs, int32_t m, ExpertId* experts,
                           float* scores);

// One token's candidates: layer l's are [offsets[l], offsets[l + 1]) of the arrays
// (router_candidate_offsets).
struct RouterCandidates {
  int32_t pos = 0;
  std::vector<ExpertId> experts;
  std::vector<float> scores;
  bool operator==(const RouterCandidates&) const = default;
};

// A row's blobs from a token's candidates (Σ m(l) of each), in the id width of the run.
void encode_router_candidates(std::span<const ExpertId> experts, std::span<const float> scores,
                              int width, std::vector<std::byte>& experts_blob,
                              std::vector<std::byte>& scores_blob);
// Back from a row; throws moescope::Error (naming `what`) when the blobs do not fit the shape.
RouterCandidates decode_router_candidates(const policy::MoeShape& shape, int width, int32_t pos,
                                          std::span<const std::byte> experts_blob,
                                          std::span<const std::byte> scores_blob, const char* what);

}  // namespace moescope::storage
