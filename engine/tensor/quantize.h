#pragma once
// Reference quantizers: float32 rows into stored tensor formats, byte for byte as ggml's
// quantize_row_*_ref (ggml-quants.c) writes them. These are what llama-quantize uses without an
// importance matrix, so quantizing an F32 model's tensors reproduces its quantized files; they
// also give the activation formats (Q8_0, Q8_1, Q8_K) that ggml's CPU dot products consume.
//
// Where ggml's arithmetic is undefined (NaN or infinite inputs, MXFP4 exponents outside 0..255)
// these clamp instead; on finite input they match ggml exactly.
#include <cstdint>

#include "engine/tensor/ggml_type.h"

namespace moescope {

// F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1, Q4_K, Q5_K, Q6_K, Q8_K, MXFP4.
bool can_quantize(GgmlType type);

// Writes the n values of src as n / block_size blocks of `type` at dst (no alignment required).
// n must be a non-negative multiple of the block size. Throws moescope::Error for types it
// cannot produce or a bad n.
void quantize_row(GgmlType type, const float* src, void* dst, int64_t n);

// Matmul inputs as ggml's CPU backend quantizes them on x86 with AVX/AVX2 (the builds behind the
// reference logits). For Q8_0 and Q8_1 that differs from the reference quantizer: the
// multiplier is 127 / amax (not 1 / (amax / 127)) and halves round to even (not away from zero),
// so a few values per block can differ by one level. Q8_K uses the reference quantizer there.
// Accepts Q8_0, Q8_1 and Q8_K; n as for quantize_row.
void quantize_row_activations(GgmlType type, const float* src, void* dst, int64_t n);

}  // namespace moescope
