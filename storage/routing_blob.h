#pragma once
// The packed form of one token's routing (a row of the routing table, docs/trace-format.md):
// the entries of every MoE layer one after another, layer by layer in rank order, as parallel
// little-endian arrays. One row per token keeps recording to a few SQLite rows per token, which
// is what keeps its cost under the engine's noise.
//
//   counts   uint8[n_layers]        experts selected at each layer; NULL = every layer's top_k
//   experts  uint8 or uint16[n]     (uint16 when a layer has more than 256 experts)
//   weights  float32[n]             mixing weights
//   logits   float32[n]             the router's logit of each selected expert
//            (both empty: not recorded, as in an imported run; read as weights 1/k(l), logits 0)
//   cache    uint8[n]               AccessOutcome of each entry; NULL = none recorded
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "engine/common/ids.h"
#include "engine/policy/moe_shape.h"

namespace moescope::storage {

// Bytes per expert id for a model shape: 1, or 2 when a layer has more than 256 experts.
int expert_id_width(const policy::MoeShape& shape);

// Reusable buffers for encoding one token.
struct RoutingBlobs {
  std::vector<std::byte> counts, experts, weights, logits, cache;
  bool default_counts = true;  // counts equal the shape's top_k (store NULL)
  bool any_cache = false;      // some entry has an outcome (else store NULL)

  void clear();
  // Appends layer l's entries.
  void add_layer(const policy::MoeShape& shape, int width, int32_t layer,
                 std::span<const ExpertId> experts, std::span<const float> weights,
                 std::span<const float> logits, std::span<const uint8_t> cache);
};

// A decoded row. Throws moescope::Error (naming `what`) when the blobs do not fit the shape.
struct DecodedRouting {
  std::vector<uint8_t> counts;    // [n_layers]
  std::vector<int64_t> offset;    // [n_layers + 1] into the entry arrays
  std::vector<ExpertId> experts;  // [n]
  std::vector<float> weights;     // [n]
  std::vector<float> logits;      // [n]
  std::vector<uint8_t> cache;     // [n] (zeros when none recorded)
};
void decode_routing(const policy::MoeShape& shape, int width, std::span<const std::byte> counts,
                    std::span<const std::byte> experts, std::span<const std::byte> weights,
                    std::span<const std::byte> logits, std::span<const std::byte> cache,
                    DecodedRouting& out, const char* what);

// Little-endian int64 / float arrays in blobs (layer timings, compute times, router logits).
void append_i64(std::vector<std::byte>& out, int64_t v);
void append_f32(std::vector<std::byte>& out, float v);
std::vector<int64_t> read_i64s(std::span<const std::byte> blob);
std::vector<float> read_f32s(std::span<const std::byte> blob);

}  // namespace moescope::storage
