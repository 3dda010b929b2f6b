#pragma once
// An independent decoder for the tensor formats, written from the layout tables in
// ../shared/docs/gguf-moe.md (Part 1 section 7, Part 2 section 9) rather than from ggml: every
// value is located by its own index arithmetic and read bit by bit from the block's bytes, halves
// are decoded with ldexp. It is deliberately slow and shares no code with engine/tensor.
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "engine/tensor/ggml_type.h"

namespace moescope::spec {

// Bytes per block and values per block of the types this decoder knows (nullopt otherwise).
struct Geometry {
  int values;
  int bytes;
};
std::optional<Geometry> geometry(GgmlType type);

// IEEE half and bfloat16 decoded arithmetically.
float half_value(uint16_t bits);
float bf16_value(uint16_t bits);

// Decodes value `index` (0 <= index < values) of one block.
float decode_value(GgmlType type, std::span<const uint8_t> block, int index);

// Decodes a whole row (bytes.size() must be a whole number of blocks).
std::vector<float> decode_row(GgmlType type, std::span<const uint8_t> bytes);

}  // namespace moescope::spec
