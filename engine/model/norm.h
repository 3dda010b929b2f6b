#pragma once
// RMSNorm as ggml computes it on the CPU.
#include <cstdint>

namespace moescope {

// For each of n_rows rows of n values: y = x * (1 / sqrt(mean(x²) + eps)) * weight (+ bias).
// The sum of squares is accumulated in double like ggml; weight and bias ([n]) may be null. Rows
// are `stride` floats apart in both x and y; y may equal x.
void rms_norm(const float* x, int64_t n_rows, int64_t n, int64_t stride, float eps,
              const float* weight, const float* bias, float* y);

}  // namespace moescope
