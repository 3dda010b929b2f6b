#pragma once
// The gated activations of the FFNs and experts, as ggml's CPU ops compute them.
#include <algorithm>
#include <cmath>
#include <cstdint>

namespace moescope {

inline float silu(float x) {
  return x / (1.0f + expf(-x));
}

// out = silu(gate) * up (ggml_swiglu). out may alias gate or up.
inline void swiglu(const float* gate, const float* up, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = silu(gate[i]) * up[i];
}

// gpt-oss's clamped SwiGLU (ggml_swiglu_oai, alpha 1.702, limit 7):
// g = min(gate, limit), u = clamp(up, -limit, limit), out = g * sigmoid(alpha g) * (u + 1).
inline void swiglu_oai(const float* gate, const float* up, float* out, int64_t n,
                       float alpha = 1.702f, float limit = 7.0f) {
  for (int64_t i = 0; i < n; ++i) {
    const float g = std::min(gate[i], limit);
    const float u = std::clamp(up[i], -limit, limit);
    out[i] = g / (1.0f + expf(alpha * (-g))) * (u + 1.0f);
  }
}

}  // namespace moescope
