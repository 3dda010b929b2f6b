#include "engine/model/rope.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <vector>

namespace moescope {
namespace {

// ggml_rope_yarn_corr_dim: the pair index whose wavelength spans n_rot turns over n_ctx_orig.
float yarn_corr_dim(int64_t n_dims, int64_t n_ctx_orig, float n_rot, float base) {
  return static_cast<float>(n_dims) *
         logf(static_cast<float>(n_ctx_orig) / (n_rot * 2 * static_cast<float>(std::numbers::pi))) /
         (2 * logf(base));
}

float yarn_ramp(float low, float high, int64_t i0) {
  const float y = (static_cast<float>(i0 / 2) - low) / std::max(0.001f, high - low);
  return 1 - std::min(1.0f, std::max(0.0f, y));
}

}  // namespace

RopeParams rope_params(const ModelHParams& hp, int64_t il, int64_t n_rot,
                       const float* freq_factors) {
  RopeParams p;
  p.type = hp.rope_type;
  p.n_rot = n_rot;
  p.freq_base = hp.freq_base(il);
  p.freq_scale = hp.rope_freq_scale;
  p.ext_factor = hp.yarn_ext_factor;
  p.attn_factor = hp.rope_attn_factor;
  p.freq_factors = freq_factors;
  const float start =
      floorf(yarn_corr_dim(n_rot, hp.n_ctx_orig_yarn, hp.yarn_beta_fast, p.freq_base));
  const float end = ceilf(yarn_corr_dim(n_rot, hp.n_ctx_orig_yarn, hp.yarn_beta_slow, p.freq_base));
  p.corr_dims[0] = std::max(0.0f, start);
  p.corr_dims[1] = std::min(static_cast<float>(n_rot - 1), end);
  return p;
}

void rope_cache(const RopeParams& p, int64_t pos, float* cache) {
  const float theta_scale = powf(p.freq_base, -2.0f / static_cast<float>(p.n_rot));
  float theta = static_cast<float>(pos);
  for (int64_t i0 = 0; i0 < p.n_rot; i0 += 2) {
    const float ff = p.freq_factors != nullptr ? p.freq_factors[i0 / 2] : 1.0f;
    const float theta_extrap = theta / ff;
    const float theta_interp = p.freq_scale * theta_extrap;
    float angle = theta_interp;
    float mscale = p.attn_factor;
    if (p.ext_factor != 0.0f) {
      const float ramp_mix = yarn_ramp(p.corr_dims[0], p.corr_dims[1], i0) * p.ext_factor;
      angle = theta_interp * (1 - ramp_mix) + theta_extrap * ramp_mix;
      mscale *= 1.0f + 0.1f * logf(1.0f / p.freq_scale);
    }
    cache[i0] = cosf(angle) * mscale;
    cache[i0 + 1] = sinf(angle) * mscale;
    theta *= theta_scale;
  }
}

void rope_head(const RopeParams& p, const float* cache, float* head) {
  const int64_t half = p.n_rot / 2;
  for (int64_t i0 = 0; i0 < p.n_rot; i0 += 2) {
    const float cos_theta = cache[i0];
    const float sin_theta = cache[i0 + 1];
    // NORM rotates adjacent pairs; NEOX pairs value i with value i + n_rot / 2.
    float* a = p.type == RopeType::Norm ? head + i0 : head + i0 / 2;
    float* b = p.type == RopeType::Norm ? head + i0 + 1 : head + i0 / 2 + half;
    const float x0 = *a;
    const float x1 = *b;
    *a = x0 * cos_theta - x1 * sin_theta;
    *b = x0 * sin_theta + x1 * cos_theta;
  }
}

void rope_rows(const RopeParams& p, float* x, int64_t n_tokens, int64_t row_stride, int64_t n_heads,
               int64_t head_stride, int64_t first_pos) {
  if (p.n_rot == 0) return;
  thread_local std::vector<float> cache;
  cache.resize(p.n_rot);
  for (int64_t t = 0; t < n_tokens; ++t) {
    rope_cache(p, first_pos + t, cache.data());
    for (int64_t h = 0; h < n_heads; ++h) {
      rope_head(p, cache.data(), x + t * row_stride + h * head_stride);
    }
  }
}

}  // namespace moescope
