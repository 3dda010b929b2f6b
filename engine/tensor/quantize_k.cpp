// K-quant reference quantizers. Their output depends on every float rounding of the scale
// search, so each expression keeps ggml's operand order (a*b*c is (a*b)*c; sums run in index
// order) and this file is compiled without FMA contraction.
#include <algorithm>
#include <cstring>

#include "engine/tensor/blocks.h"
#include "engine/tensor/fp16.h"
#include "engine/tensor/quantize_k.h"

namespace moescope {
namespace {

constexpr float kGroupMaxEps = 1e-15f;  // below this a group counts as all zero

// Fits x[i] ~ scale * L[i] - min_out (L in 0..nmax, min_out >= 0) for a sub-block, minimising the
// weighted squared error: start from the plain min/max grid, then try nstep+1 slightly different
// grid spacings, each refined by a weighted least-squares solve for scale and offset (ggml's
// make_qkx2_quants without the mean-absolute-difference option). hi - lo is recomputed with the
// current best offset on every step, as ggml does.
float fit_scale_and_min(int n, int nmax, const float* x, const float* w, uint8_t* L, float* min_out,
                        float rmin, float rdelta, int nstep) {
  float lo = x[0];
  float hi = x[0];
  float sum_w = w[0];
  float sum_x = sum_w * x[0];
  for (int i = 1; i < n; ++i) {
    if (x[i] < lo) lo = x[i];
    if (x[i] > hi) hi = x[i];
    sum_w += w[i];
    sum_x += w[i] * x[i];
  }
  if (lo > 0) lo = 0;  // the offset only ever shifts down
  if (hi == lo) {
    std::fill(L, L + n, uint8_t{0});
    *min_out = -lo;
    return 0.0f;
  }
  const float levels = static_cast<float>(nmax);
  float iscale = levels / (hi - lo);
  float scale = 1 / iscale;
  float best_error = 0;
  for (int i = 0; i < n; ++i) {
    const int l = std::clamp(round_half_even(iscale * (x[i] - lo)), 0, nmax);
    L[i] = static_cast<uint8_t>(l);
    const float diff = scale * static_cast<float>(l) + lo - x[i];
    best_error += w[i] * (diff * diff);
  }
  uint8_t trial[kQK_K];
  for (int step = 0; step <= nstep; ++step) {
    iscale = (rmin + rdelta * static_cast<float>(step) + levels) / (hi - lo);
    float sum_l = 0, sum_l2 = 0, sum_xl = 0;
    for (int i = 0; i < n; ++i) {
      const int l = std::clamp(round_half_even(iscale * (x[i] - lo)), 0, nmax);
      trial[i] = static_cast<uint8_t>(l);
      const float fl = static_cast<float>(l);
      sum_l += w[i] * fl;
      sum_l2 += w[i] * fl * fl;
      sum_xl += w[i] * fl * x[i];
    }
    const float det = sum_w * sum_l2 - sum_l * sum_l;
    if (!(det > 0)) continue;
    float this_scale = (sum_w * sum_xl - sum_x * sum_l) / det;
    float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / det;
    if (this_min > 0) {
      this_min = 0;
      this_scale = sum_xl / sum_l2;
    }
    float error = 0;
    for (int i = 0; i < n; ++i) {
      const float diff = this_scale * static_cast<float>(trial[i]) + this_min - x[i];
      error += w[i] * (diff * diff);
    }
    if (error < best_error) {
      std::copy(trial, trial + n, L);
      best_error = error;
      scale = this_scale;
      lo = this_min;  // later grids are anchored at the best offset so far, as in ggml
    }
  }
  *min_out = -lo;
  return scale;
}

// Fits x[i] ~ scale * (L[i] - nmax) (L in 0..2*nmax-1) with weights x^2, trying 19 grid spacings
// around nmax / max|x| (ggml's make_qx_quants with rmse_type 1 and no importance weights).
float fit_symmetric_scale(int n, int nmax, const float* x, uint8_t* L) {
  float peak = 0;
  float abs_peak = 0;
  for (int i = 0; i < n; ++i) {
    if (std::fabs(x[i]) > abs_peak) {
      abs_peak = std::fabs(x[i]);
      peak = x[i];
    }
  }
  if (abs_peak < kGroupMaxEps) {
    std::fill(L, L + n, uint8_t{0});
    return 0;
  }
  const float levels = static_cast<float>(nmax);
  // Sums of w*x*l and w*l*l for the grid 1/iscale; optionally records the levels.
  auto evaluate = [&](float iscale, float* sum_lx, float* sum_l2, uint8_t* levels_out) {
    *sum_lx = 0;
    *sum_l2 = 0;
    for (int i = 0; i < n; ++i) {
      const int l = std::clamp(round_half_even(iscale * x[i]), -nmax, nmax - 1);
      if (levels_out) levels_out[i] = static_cast<uint8_t>(l + nmax);
      const float w = x[i] * x[i];
      const float fl = static_cast<float>(l);
      *sum_lx += w * x[i] * fl;
      *sum_l2 += w * fl * fl;
    }
  };
  float sum_lx, sum_l2;
  evaluate(-levels / peak, &sum_lx, &sum_l2, L);
  float scale = sum_l2 != 0 ? sum_lx / sum_l2 : 0.0f;
  float best = scale * sum_lx;
  for (int step = -9; step <= 9; ++step) {
    if (step == 0) continue;
    const float iscale = -(levels + 0.1f * static_cast<float>(step)) / peak;
    evaluate(iscale, &sum_lx, &sum_l2, nullptr);
    if (sum_l2 > 0 && sum_lx * sum_lx > best * sum_l2) {
      evaluate(iscale, &sum_lx, &sum_l2, L);
      scale = sum_lx / sum_l2;
      best = scale * sum_lx;
    }
  }
  return scale;
}

// Packs eight 6-bit (scale, min) pairs into 12 bytes: pairs 0..3 in the low 6 bits of bytes 0..3
// (scales) and 4..7 (mins); pairs 4..7 as nibbles in bytes 8..11 with their top 2 bits in the
// high bits of bytes 0..7. Inverse of k_scale_min().
void pack_scales_and_mins(const uint8_t sc[8], const uint8_t m[8], uint8_t out[kKScaleBytes]) {
  for (int j = 0; j < 8; ++j) {
    if (j < 4) {
      out[j] = sc[j];
      out[j + 4] = m[j];
    } else {
      out[j + 4] = static_cast<uint8_t>((sc[j] & 15) | ((m[j] & 15) << 4));
      out[j - 4] |= static_cast<uint8_t>((sc[j] >> 4) << 6);
      out[j] |= static_cast<uint8_t>((m[j] >> 4) << 6);
    }
  }
}

// The shared part of Q4_K and Q5_K: per 32-value sub-block a (scale, min) fit, both quantized to
// 6 bits against the block maxima, then every value re-quantized with the stored scales.
// Returns the levels (0..nmax) of the 256 values in L.
template <typename Block>
void quantize_k_scales(const float* x, int nmax, float rmin, float rdelta, int nstep, Block& block,
                       uint8_t L[kQK_K]) {
  float scales[8], mins[8];
  float max_scale = 0, max_min = 0;
  for (int j = 0; j < 8; ++j) {
    const float* xs = x + 32 * j;
    float sum_x2 = 0;
    for (int l = 0; l < 32; ++l) sum_x2 += xs[l] * xs[l];
    const float av_x = std::sqrt(sum_x2 / 32);
    float weights[32];
    for (int l = 0; l < 32; ++l) weights[l] = av_x + std::fabs(xs[l]);
    scales[j] = fit_scale_and_min(32, nmax, xs, weights, L + 32 * j, &mins[j], rmin, rdelta, nstep);
    if (scales[j] > max_scale) max_scale = scales[j];
    if (mins[j] > max_min) max_min = mins[j];
  }
  const float inv_scale = max_scale > 0 ? 63.0f / max_scale : 0.0f;
  const float inv_min = max_min > 0 ? 63.0f / max_min : 0.0f;
  uint8_t sc6[8], m6[8];
  for (int j = 0; j < 8; ++j) {
    // ggml narrows to uint8 (modulo 256) before clamping to 63.
    sc6[j] = std::min<uint8_t>(63, static_cast<uint8_t>(round_half_even(inv_scale * scales[j])));
    m6[j] = std::min<uint8_t>(63, static_cast<uint8_t>(round_half_even(inv_min * mins[j])));
  }
  std::memset(block.scales, 0, sizeof block.scales);
  pack_scales_and_mins(sc6, m6, block.scales);
  block.d = fp32_to_fp16(max_scale / 63.0f);
  block.dmin = fp32_to_fp16(max_min / 63.0f);
  for (int j = 0; j < 8; ++j) {
    uint8_t sc, m;
    k_scale_min(j, block.scales, &sc, &m);
    const float d = fp16_to_fp32(block.d) * static_cast<float>(sc);
    if (d == 0) continue;  // keep the levels of the fit
    const float dm = fp16_to_fp32(block.dmin) * static_cast<float>(m);
    for (int l = 0; l < 32; ++l) {
      L[32 * j + l] =
          static_cast<uint8_t>(std::clamp(round_half_even((x[32 * j + l] + dm) / d), 0, nmax));
    }
  }
}

}  // namespace

void quantize_q4_k(const float* x, uint8_t* dst, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b, x += kQK_K) {
    BlockQ4_K block;
    uint8_t L[kQK_K];
    quantize_k_scales(x, 15, -1.0f, 0.1f, 20, block, L);
    // Chunk c: sub-block 2c in the low nibbles, 2c+1 in the high nibbles.
    for (int c = 0; c < 4; ++c) {
      for (int l = 0; l < 32; ++l) {
        block.qs[32 * c + l] = static_cast<uint8_t>(L[64 * c + l] | (L[64 * c + 32 + l] << 4));
      }
    }
    std::memcpy(dst + b * static_cast<int64_t>(sizeof block), &block, sizeof block);
  }
}

void quantize_q5_k(const float* x, uint8_t* dst, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b, x += kQK_K) {
    BlockQ5_K block;
    uint8_t L[kQK_K];
    quantize_k_scales(x, 31, -0.5f, 0.1f, 15, block, L);
    std::memset(block.qh, 0, sizeof block.qh);
    for (int c = 0; c < 4; ++c) {
      for (int l = 0; l < 32; ++l) {
        const int lo = L[64 * c + l];
        const int hi = L[64 * c + 32 + l];
        block.qs[32 * c + l] = static_cast<uint8_t>((lo & 15) | ((hi & 15) << 4));
        block.qh[l] |= static_cast<uint8_t>(((lo >> 4) << (2 * c)) | ((hi >> 4) << (2 * c + 1)));
      }
    }
    std::memcpy(dst + b * static_cast<int64_t>(sizeof block), &block, sizeof block);
  }
}

void quantize_q6_k(const float* x, uint8_t* dst, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b, x += kQK_K) {
    BlockQ6_K block;
    uint8_t L[kQK_K];
    float scales[16];
    float max_scale = 0, max_abs_scale = 0;
    for (int j = 0; j < 16; ++j) {
      scales[j] = fit_symmetric_scale(16, 32, x + 16 * j, L + 16 * j);
      if (std::fabs(scales[j]) > max_abs_scale) {
        max_abs_scale = std::fabs(scales[j]);
        max_scale = scales[j];
      }
    }
    if (max_abs_scale < kGroupMaxEps) {
      std::memset(&block, 0, sizeof block);
    } else {
      // The largest sub-block scale maps to -128, so scales use the full int8 range.
      const float iscale = -128.0f / max_scale;
      block.d = fp32_to_fp16(1 / iscale);
      for (int j = 0; j < 16; ++j) {
        block.scales[j] = static_cast<int8_t>(std::min(127, round_half_even(iscale * scales[j])));
      }
      for (int j = 0; j < 16; ++j) {
        const float d = fp16_to_fp32(block.d) * static_cast<float>(block.scales[j]);
        if (d == 0) continue;
        for (int l = 0; l < 16; ++l) {
          const int q = std::clamp(round_half_even(x[16 * j + l] / d), -32, 31);
          L[16 * j + l] = static_cast<uint8_t>(q + 32);
        }
      }
      // Half h of 128 values: value l, l+32, l+64, l+96 share qh[l]; ql[l] holds l and l+64,
      // ql[l+32] holds l+32 and l+96 (low nibble first).
      for (int h = 0; h < 2; ++h) {
        const uint8_t* Lh = L + 128 * h;
        uint8_t* ql = block.ql + 64 * h;
        uint8_t* qh = block.qh + 32 * h;
        for (int l = 0; l < 32; ++l) {
          ql[l] = static_cast<uint8_t>((Lh[l] & 15) | ((Lh[l + 64] & 15) << 4));
          ql[l + 32] = static_cast<uint8_t>((Lh[l + 32] & 15) | ((Lh[l + 96] & 15) << 4));
          qh[l] = static_cast<uint8_t>((Lh[l] >> 4) | ((Lh[l + 32] >> 4) << 2) |
                                       ((Lh[l + 64] >> 4) << 4) | ((Lh[l + 96] >> 4) << 6));
        }
      }
    }
    std::memcpy(dst + b * static_cast<int64_t>(sizeof block), &block, sizeof block);
  }
}

}  // namespace moescope
