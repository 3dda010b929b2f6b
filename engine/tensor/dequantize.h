#pragma once
// Turning a row of stored tensor values into float32, bit-exactly as ggml's dequantizers
// (dequantize_row_* in ggml-quants.c) and gguf-py compute them. In every format the partial
// products of scales and quants are exact in float32, so each value takes at most one rounding
// and the result does not depend on evaluation order or FMA.
#include <cstdint>

#include "engine/tensor/ggml_type.h"

namespace moescope {

// Whether dequantize_row accepts this type: every type whose traits say dequantizable (F32, F16,
// BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K, MXFP4) plus the activation formats Q8_1
// and Q8_K.
bool can_dequantize(GgmlType type);

// dst[0..n) = the n values stored at src. n must be a non-negative multiple of the type's block
// size; src holds n / block_size blocks (no alignment required). Throws moescope::Error for types
// it cannot decode or a bad n.
void dequantize_row(GgmlType type, const void* src, float* dst, int64_t n);

}  // namespace moescope
