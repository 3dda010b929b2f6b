// Portable dot products, one per weight format: the fallback on CPUs without AVX2 and the
// readable statement of each format's math. Integer sums per block, scaled once per block, as in
// ggml's reference ("generic") kernels.
#include <cstring>

#include "engine/tensor/blocks.h"
#include "engine/tensor/fp16.h"
#include "engine/tensor/kernels/kernels.h"
#include "engine/tensor/quantize.h"

namespace moescope::kernels {
namespace {

using RowDot = float (*)(int64_t cols, const std::byte* w, const std::byte* x);

float dot_f32(int64_t n, const std::byte* w, const std::byte* x) {
  const auto* a = reinterpret_cast<const float*>(w);
  const auto* b = reinterpret_cast<const float*>(x);
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(a[i]) * b[i];
  return static_cast<float>(sum);
}

// F16 x F16 and BF16 x BF16: the products are exact in f32, only the sum rounds.
float dot_f16(int64_t n, const std::byte* w, const std::byte* x) {
  const auto* a = reinterpret_cast<const uint16_t*>(w);
  const auto* b = reinterpret_cast<const uint16_t*>(x);
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += fp16_to_fp32(a[i]) * fp16_to_fp32(b[i]);
  return static_cast<float>(sum);
}

float dot_bf16(int64_t n, const std::byte* w, const std::byte* x) {
  const auto* a = reinterpret_cast<const uint16_t*>(w);
  const auto* b = reinterpret_cast<const uint16_t*>(x);
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += bf16_to_fp32(a[i]) * bf16_to_fp32(b[i]);
  return static_cast<float>(sum);
}

uint32_t load_qh(const uint8_t* qh) {
  uint32_t v;
  std::memcpy(&v, qh, sizeof(v));
  return v;
}

// Σ_b d_w d_x Σ_j (q_j - 8) x_j
float dot_q4_0(int64_t n, const std::byte* w, const std::byte* x) {
  const auto* wb = reinterpret_cast<const BlockQ4_0*>(w);
  const auto* xb = reinterpret_cast<const BlockQ8_0*>(x);
  float sum = 0;
  for (int64_t b = 0; b < n / kQK4_0; ++b) {
    int sumi = 0;
    for (int j = 0; j < kQK4_0 / 2; ++j) {
      sumi += ((wb[b].qs[j] & 15) - 8) * xb[b].qs[j];
      sumi += ((wb[b].qs[j] >> 4) - 8) * xb[b].qs[j + kQK4_0 / 2];
    }
    sum += fp16_to_fp32(wb[b].d) * fp16_to_fp32(xb[b].d) * static_cast<float>(sumi);
  }
  return sum;
}

// Σ_b d_w d_x Σ_j q_j x_j + m_w s_x, with s_x = d_x Σ x_j as stored (fp16) in the Q8_1 block.
float dot_q4_1(int64_t n, const std::byte* w, const std::byte* x) {
  const auto* wb = reinterpret_cast<const BlockQ4_1*>(w);
  const auto* xb = reinterpret_cast<const BlockQ8_1*>(x);
  float sum = 0;
  for (int64_t b = 0; b < n / kQK4_1; ++b) {
    int sumi = 0;
    for (int j = 0; j < kQK4_1 / 2; ++j) {
      sumi += (wb[b].qs[j] & 15) * xb[b].qs[j];
      sumi += (wb[b].qs[j] >> 4) * xb[b].qs[j + kQK4_1 / 2];
    }
    sum += fp16_to_fp32(wb[b].d) * fp16_to_fp32(xb[b].d) * static_cast<float>(sumi) +
           fp16_to_fp32(wb[b].m) * fp16_to_fp32(xb[b].s);
  }
  return sum;
}

float dot_q5_0(int64_t n, const std::byte* w, const std::byte* x) {
  const auto* wb = reinterpret_cast<const BlockQ5_0*>(w);
  const auto* xb = reinterpret_cast<const BlockQ8_0*>(x);
  float sum = 0;
  for (int64_t b = 0; b < n / kQK5_0; ++b) {
    const uint32_t qh = load_qh(wb[b].qh);
    int sumi = 0;
    for (int j = 0; j < kQK5_0 / 2; ++j) {
      const int lo = (wb[b].qs[j] & 15) | (((qh >> j) & 1) << 4);
      const int hi = (wb[b].qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4);
      sumi += (lo - 16) * xb[b].qs[j] + (hi - 16) * xb[b].qs[j + kQK5_0 / 2];
    }
    sum += fp16_to_fp32(wb[b].d) * fp16_to_fp32(xb[b].d) * static_cast<float>(sumi);
  }
  return sum;
}

float dot_q5_1(int64_t n, const std::byte* w, const std::byte* x) {
  const auto* wb = reinterpret_cast<const BlockQ5_1*>(w);
  const auto* xb = reinterpret_cast<const BlockQ8_1*>(x);
  float sum = 0;
  for (int64_t b = 0; b < n / kQK5_1; ++b) {
    const uint32_t qh = load_qh(wb[b].qh);
    int sumi = 0;
    for (int j = 0; j < kQK5_1 / 2; ++j) {
      const int lo = (wb[b].qs[j] & 15) | (((qh >> j) & 1) << 4);
      const int hi = (wb[b].qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4);
      sumi += lo * xb[b].qs[j] + hi * xb[b].qs[j + kQK5_1 / 2];
    }
    sum += fp16_to_fp32(wb[b].d) * fp16_to_fp32(xb[b].d) * static_cast<float>(sumi) +
           fp16_to_fp32(wb[b].m) * fp16_to_fp32(xb[b].s);
  }
  return sum;
}

float dot_q8_0(int64_t n, const std::byte* w, const std::byte* x) {
  const auto* wb = reinterpret_cast<const BlockQ8_0*>(w);
  const auto* xb = reinterpret_cast<const BlockQ8_0*>(x);
  float sum = 0;
  for (int64_t b = 0; b < n / kQK8_0; ++b) {
    int sumi = 0;
    for (int j = 0; j < kQK8_0; ++j) sumi += wb[b].qs[j] * xb[b].qs[j];
    sum += fp16_to_fp32(wb[b].d) * fp16_to_fp32(xb[b].d) * static_cast<float>(sumi);
  }
  return sum;
}

// MXFP4 against Q8_0: Σ_b 2^(e-128) d_x Σ_j table[q_j] x_j.
float dot_mxfp4(int64_t n, const std::byte* w, const std::byte* x) {
  const auto* wb = reinterpret_cast<const BlockMXFP4*>(w);
  const auto* xb = reinterpret_cast<const BlockQ8_0*>(x);
  float sum = 0;
  for (int64_t b = 0; b < n / kQK_MXFP4; ++b) {
    int sumi = 0;
    for (int j = 0; j < kQK_MXFP4 / 2; ++j) {
      sumi += kMxfp4Values[wb[b].qs[j] & 15] * xb[b].qs[j];
      sumi += kMxfp4Values[wb[b].qs[j] >> 4] * xb[b].qs[j + kQK_MXFP4 / 2];
    }
    sum += e8m0_to_fp32_half(wb[b].e) * fp16_to_fp32(xb[b].d) * static_cast<float>(sumi);
  }
  return sum;
}

// Q4_K/Q5_K against Q8_K: per super-block d_w d_x Σ_j sc_j Σ q x - dmin_w d_x Σ_j m_j Σ x, where
// the activation sums Σ x per 32 values come from the Q8_K bsums (16-value sums).
template <bool kFifthBit, typename Block>
float dot_q45_k(int64_t n, const std::byte* w, const std::byte* x) {
  const auto* wb = reinterpret_cast<const Block*>(w);
  const auto* xb = reinterpret_cast<const BlockQ8_K*>(x);
  float sum = 0;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const Block& blk = wb[b];
    const BlockQ8_K& xk = xb[b];
    int sum_scaled = 0;  // Σ_j sc_j Σ q x
    int sum_mins = 0;    // Σ_j m_j Σ x
    for (int chunk = 0; chunk < 4; ++chunk) {
      for (int half = 0; half < 2; ++half) {
        const int sub = 2 * chunk + half;
        uint8_t sc, m;
        k_scale_min(sub, blk.scales, &sc, &m);
        int sumi = 0;
        for (int l = 0; l < 32; ++l) {
          const uint8_t byte = blk.qs[32 * chunk + l];
          int q = half == 0 ? (byte & 15) : (byte >> 4);
          if constexpr (kFifthBit) q |= ((blk.qh[l] >> sub) & 1) << 4;
          sumi += q * xk.qs[32 * sub + l];
        }
        sum_scaled += sc * sumi;
        sum_mins += m * (xk.bsums[2 * sub] + xk.bsums[2 * sub + 1]);
      }
    }
    sum += fp16_to_fp32(blk.d) * xk.d * static_cast<float>(sum_scaled) -
           fp16_to_fp32(blk.dmin) * xk.d * static_cast<float>(sum_mins);
  }
  return sum;
}

// Q6_K against Q8_K: d_w d_x Σ_g scale_g Σ (q - 32) x over 16 groups of 16.
float dot_q6_k(int64_t n, const std::byte* w, const std::byte* x) {
  const auto* wb = reinterpret_cast<const BlockQ6_K*>(w);
  const auto* xb = reinterpret_cast<const BlockQ8_K*>(x);
  float sum = 0;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const BlockQ6_K& blk = wb[b];
    int8_t q[kQK_K];
    for (int half = 0; half < 2; ++half) {
      const uint8_t* ql = blk.ql + 64 * half;
      const uint8_t* qh = blk.qh + 32 * half;
      int8_t* out = q + 128 * half;
      for (int l = 0; l < 32; ++l) {
        out[l] = static_cast<int8_t>(((ql[l] & 15) | (((qh[l] >> 0) & 3) << 4)) - 32);
        out[l + 32] = static_cast<int8_t>(((ql[l + 32] & 15) | (((qh[l] >> 2) & 3) << 4)) - 32);
        out[l + 64] = static_cast<int8_t>(((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
        out[l + 96] = static_cast<int8_t>(((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
      }
    }
    int sum_scaled = 0;
    for (int g = 0; g < kQK_K / 16; ++g) {
      int sumi = 0;
      for (int l = 0; l < 16; ++l) sumi += q[16 * g + l] * xb[b].qs[16 * g + l];
      sum_scaled += blk.scales[g] * sumi;
    }
    sum += fp16_to_fp32(blk.d) * xb[b].d * static_cast<float>(sum_scaled);
  }
  return sum;
}

template <RowDot Dot>
void dot_tile(const DotTile& t) {
  for (int64_t r = 0; r < t.n_rows; ++r) {
    const std::byte* w = t.w + r * t.w_stride;
    for (int64_t i = 0; i < t.n_x; ++i) {
      t.y[i * t.y_stride + r] = Dot(t.cols, w, t.x + i * t.x_stride);
    }
  }
}

DotTileFn scalar_dot_tile(GgmlType type) {
  switch (type) {
    case GgmlType::F32:
      return dot_tile<dot_f32>;
    case GgmlType::F16:
      return dot_tile<dot_f16>;
    case GgmlType::BF16:
      return dot_tile<dot_bf16>;
    case GgmlType::Q4_0:
      return dot_tile<dot_q4_0>;
    case GgmlType::Q4_1:
      return dot_tile<dot_q4_1>;
    case GgmlType::Q5_0:
      return dot_tile<dot_q5_0>;
    case GgmlType::Q5_1:
      return dot_tile<dot_q5_1>;
    case GgmlType::Q8_0:
      return dot_tile<dot_q8_0>;
    case GgmlType::MXFP4:
      return dot_tile<dot_mxfp4>;
    case GgmlType::Q4_K:
      return dot_tile<dot_q45_k<false, BlockQ4_K>>;
    case GgmlType::Q5_K:
      return dot_tile<dot_q45_k<true, BlockQ5_K>>;
    case GgmlType::Q6_K:
      return dot_tile<dot_q6_k>;
    default:
      return nullptr;
  }
}

void to_f16(const float* x, uint16_t* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = fp32_to_fp16(x[i]);
}

void to_bf16(const float* x, uint16_t* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = fp32_to_bf16(x[i]);
}

void to_q8_0(const float* x, std::byte* out, int64_t n) {
  quantize_row_activations(GgmlType::Q8_0, x, out, n);
}
void to_q8_1(const float* x, std::byte* out, int64_t n) {
  quantize_row_activations(GgmlType::Q8_1, x, out, n);
}
void to_q8_k(const float* x, std::byte* out, int64_t n) {
  quantize_row_activations(GgmlType::Q8_K, x, out, n);
}

float dot_f32_plain(const float* a, const float* b, int64_t n) {
  float sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

void axpy(float a, const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}

}  // namespace

const KernelSet& scalar_kernels() {
  static const KernelSet set{scalar_dot_tile, to_f16,  to_bf16,       to_q8_0,
                             to_q8_1,         to_q8_k, dot_f32_plain, axpy};
  return set;
}

}  // namespace moescope::kernels
