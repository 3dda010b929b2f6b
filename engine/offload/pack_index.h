#pragma once
// The (uncompressed) index of an expert pack: which model it was cut from and where each expert's
// frame lies. See expert_pack.h for the file layout.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "engine/offload/expert_layout.h"

namespace moescope::offload {

struct PackFrame {
  uint64_t offset = 0;
  uint64_t bytes = 0;
};

struct PackIndex {
  uint64_t model_file_bytes = 0;
  // SHA-256 of the model's expert bytes (expert_digest.h): a pack of a changed model is refused.
  std::array<uint8_t, 32> expert_sha256{};
  std::vector<LayerRecord> layers;
  std::vector<PackFrame> frames;  // [sum of n_expert], layer-major
};

std::vector<std::byte> encode_pack_index(const PackIndex& index);
// Throws moescope::Error "WHAT: the index is corrupt (...)" on any inconsistency.
PackIndex decode_pack_index(std::span<const std::byte> bytes, const std::string& what);

// Describes the first difference between a pack's layer records and the model's, or "" if none.
std::string describe_layout_mismatch(const std::vector<LayerRecord>& pack,
                                     const std::vector<LayerRecord>& model);

}  // namespace moescope::offload
