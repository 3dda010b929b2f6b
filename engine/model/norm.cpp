#include "engine/model/norm.h"

#include <cmath>

namespace moescope {

void rms_norm(const float* x, int64_t n_rows, int64_t n, int64_t stride, float eps,
              const float* weight, const float* bias, float* y) {
  for (int64_t r = 0; r < n_rows; ++r) {
    const float* xr = x + r * stride;
    float* yr = y + r * stride;
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(xr[i] * xr[i]);
    const float mean = static_cast<float>(sum / static_cast<double>(n));
    const float scale = 1.0f / sqrtf(mean + eps);
    for (int64_t i = 0; i < n; ++i) {
      float v = xr[i] * scale;
      if (weight != nullptr) v *= weight[i];
      if (bias != nullptr) v += bias[i];
      yr[i] = v;
    }
  }
}

}  // namespace moescope
