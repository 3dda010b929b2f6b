#pragma once
// Internal to quantize.cpp: the K-quant weight quantizers (ggml's quantize_row_q{4,5,6}_K_ref),
// which search for the best scales, and the rounding helper they share with Q8_K.
#include <cmath>
#include <cstdint>

namespace moescope {

// Round to nearest, ties to even (ggml's nearest_int), for |v| up to 2^22; larger or NaN inputs,
// where ggml's result is meaningless, are clamped.
inline int round_half_even(float v) {
  constexpr float kLimit = 4194303.0f;
  if (!(v >= -kLimit)) v = -kLimit;
  if (v > kLimit) v = kLimit;
  return static_cast<int>(std::nearbyint(v));
}

// Each writes n_blocks super-blocks of 256 values from x to dst.
void quantize_q4_k(const float* x, uint8_t* dst, int64_t n_blocks);
void quantize_q5_k(const float* x, uint8_t* dst, int64_t n_blocks);
void quantize_q6_k(const float* x, uint8_t* dst, int64_t n_blocks);

}  // namespace moescope
