#include "engine/model/softmax.h"

namespace moescope {

void softmax_row(float* s, int64_t n, float max, float extra) {
  for (int64_t j = 0; j < n; ++j) s[j] = std::max(s[j] - max, kExpFloor);
  for (int64_t j = 0; j < n; ++j) s[j] = exp_nonpositive(s[j]);
  // Σ in 16 float lanes folded into a double, as ggml does per SIMD register.
  constexpr int kLanes = 16;
  float lanes[kLanes] = {};
  int64_t j = 0;
  for (; j + kLanes <= n; j += kLanes) {
    for (int l = 0; l < kLanes; ++l) lanes[l] += s[j + l];
  }
  double sum = static_cast<double>(extra);
  for (int l = 0; l < kLanes; ++l) sum += static_cast<double>(lanes[l]);
  for (; j < n; ++j) sum += static_cast<double>(s[j]);
  const float inv = static_cast<float>(1.0 / sum);
  for (int64_t i = 0; i < n; ++i) s[i] *= inv;
}

}  // namespace moescope
