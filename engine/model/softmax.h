#pragma once
// The attention softmax row, written so the compiler vectorizes it: exp uses the polynomial of
// ggml's vectorized ggml_v_expf (what llama.cpp's CPU softmax evaluates), sums go through float
// lanes into a double like ggml_vec_soft_max_f32.
#include <algorithm>
#include <bit>
#include <cstdint>

namespace moescope {

// The lower end of the exp argument range: e^-80 = 1.8e-35 is indistinguishable from 0 in any
// softmax sum and keeps the arithmetic out of subnormals.
inline constexpr float kExpFloor = -80.0f;

// e^x for kExpFloor <= x <= 0 (softmax arguments), within a few ulp. Branch-free so loops over it
// vectorize; callers clamp (a clamp in the same loop stops GCC from vectorizing it).
inline float exp_nonpositive(float x) {
  const float r = 0x1.8p23f;  // adding it rounds x·log2(e) to an integer n in the low bits
  const float z = x * 0x1.715476p+0f + r;
  const float n = z - r;
  // b = x - n ln2, with ln2 split so that n * hi is exact.
  const float b = (x - n * 0x1.62e4p-1f) - n * 0x1.7f7d1cp-20f;
  const float k = std::bit_cast<float>((std::bit_cast<uint32_t>(z) << 23) +
                                       std::bit_cast<uint32_t>(1.0f));  // 2^n
  const float u = b * b;
  const float j =
      0x1.ffffecp-1f * b +
      ((0x1.fffdb6p-2f + 0x1.555e66p-3f * b) + (0x1.573e2ep-5f + 0x1.0e4020p-7f * b) * u) * u;
  return k + k * j;
}

// In place over s[0..n): s = exp(s - max) / (Σ exp(s - max) + extra), where `extra` is mass
// that takes part in the normalisation only (attention sinks). Returns nothing; max must be at
// least every s[i].
void softmax_row(float* s, int64_t n, float max, float extra);

}  // namespace moescope
