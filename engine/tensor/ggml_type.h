#pragma once
// The tensor element types of ggml/GGUF: ids as stored in files, block geometry, names.
#include <cstdint>
#include <optional>
#include <string_view>

namespace moescope {

enum class GgmlType : uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q8_1 = 9,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  Q8_K = 15,
  I8 = 24,
  I16 = 25,
  I32 = 26,
  I64 = 27,
  F64 = 28,
  BF16 = 30,
  MXFP4 = 39,
};

struct GgmlTypeTraits {
  GgmlType type;
  std::string_view name;
  uint32_t block_size;   // values per block (1 for plain scalars)
  uint32_t block_bytes;  // bytes per block
  bool dequantizable;    // MoEScope can turn it into F32
};

// Traits of a known type id, or nullopt for ids this build does not know (the GGUF reader turns
// that into an "unknown tensor type" error naming the id).
std::optional<GgmlTypeTraits> ggml_type_traits(uint32_t raw_type);
const GgmlTypeTraits& ggml_type_traits(GgmlType type);
std::string_view ggml_type_name(GgmlType type);

// Bytes taken by a row of n values; n must be a multiple of the block size (checked by callers).
inline uint64_t ggml_row_bytes(const GgmlTypeTraits& t, uint64_t n) {
  return n / t.block_size * t.block_bytes;
}

}  // namespace moescope
