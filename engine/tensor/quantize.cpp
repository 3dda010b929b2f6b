#include "engine/tensor/quantize.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <string>
#include <type_traits>

#include "engine/common/error.h"
#include "engine/tensor/blocks.h"
#include "engine/tensor/fp16.h"
#include "engine/tensor/quantize_k.h"

namespace moescope {
namespace {

// Checks n against the type's block size; returns the number of blocks.
int64_t checked_blocks(const GgmlTypeTraits& traits, int64_t n) {
  if (n < 0 || n % traits.block_size != 0) {
    fail("cannot quantize {} values to type {}: not a multiple of its block size {}", n,
         traits.name, traits.block_size);
  }
  return n / traits.block_size;
}

// A type's name, also for ids this build does not know.
std::string type_label(GgmlType type) {
  const auto traits = ggml_type_traits(static_cast<uint32_t>(type));
  return traits ? std::string(traits->name) : fmt::format("#{}", static_cast<uint32_t>(type));
}

template <typename Block>
void store_block(const Block& block, uint8_t* dst, int64_t index) {
  std::memcpy(dst + index * static_cast<int64_t>(sizeof(Block)), &block, sizeof(Block));
}

// C's float -> integer conversions truncate toward zero; ggml relies on that for its "+ 0.5"
// rounding. Clamping first keeps NaN/inf inputs defined.
inline int truncate_clamped(float v, int lo, int hi) {
  if (!(v >= static_cast<float>(lo))) return lo;
  if (v >= static_cast<float>(hi) + 1.0f) return hi;
  return std::clamp(static_cast<int>(v), lo, hi);
}

// roundf (half away from zero) into an int8, the rounding of ggml's Q8_0/Q8_1 reference.
inline int8_t round_to_int8(float v) {
  const float r = std::round(v);
  if (!(r >= -128.0f)) return -128;
  if (r > 127.0f) return 127;
  return static_cast<int8_t>(r);
}

// Largest |x| of a block, and the signed value that has it (the first one on ties).
struct SignedMax {
  float abs_max = 0.0f;
  float value = 0.0f;
};
SignedMax signed_max(const float* x, int n) {
  SignedMax result;
  for (int j = 0; j < n; ++j) {
    if (std::fabs(x[j]) > result.abs_max) {
      result.abs_max = std::fabs(x[j]);
      result.value = x[j];
    }
  }
  return result;
}

void quantize_q8_0(const float* x, uint8_t* dst, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b, x += kQK8_0) {
    float amax = 0.0f;
    for (int j = 0; j < kQK8_0; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    BlockQ8_0 block;
    block.d = fp32_to_fp16(d);
    for (int j = 0; j < kQK8_0; ++j) block.qs[j] = round_to_int8(x[j] * id);
    store_block(block, dst, b);
  }
}

// ggml's x86 SIMD variant of Q8_0/Q8_1 (quantize_row_q8_0/q8_1 in ggml-cpu/arch/x86).
template <typename Block>
void quantize_q8_x86(const float* x, uint8_t* dst, int64_t n_blocks) {
  constexpr bool kWithSum = std::is_same_v<Block, BlockQ8_1>;
  for (int64_t b = 0; b < n_blocks; ++b, x += 32) {
    float amax = 0.0f;
    for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / 127.0f;
    const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
    Block block;
    block.d = fp32_to_fp16(d);
    int sum = 0;
    for (int j = 0; j < 32; ++j) {
      block.qs[j] = static_cast<int8_t>(std::clamp(round_half_even(x[j] * id), -128, 127));
      sum += block.qs[j];
    }
    if constexpr (kWithSum) block.s = fp32_to_fp16(d * static_cast<float>(sum));
    store_block(block, dst, b);
  }
}

void quantize_q8_1(const float* x, uint8_t* dst, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b, x += kQK8_1) {
    float amax = 0.0f;
    for (int j = 0; j < kQK8_1; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    BlockQ8_1 block;
    block.d = fp32_to_fp16(d);
    int sum = 0;
    for (int j = 0; j < kQK8_1; ++j) {
      block.qs[j] = round_to_int8(x[j] * id);
      sum += block.qs[j];
    }
    // s uses the unrounded float d, as ggml does.
    block.s = fp32_to_fp16(static_cast<float>(sum) * d);
    store_block(block, dst, b);
  }
}

// Q4_0/Q5_0: the scale maps the value of largest magnitude to the most negative level, so that
// level is always used exactly; q = trunc(x / d + offset + 0.5).
void quantize_q4_0(const float* x, uint8_t* dst, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b, x += kQK4_0) {
    const float d = signed_max(x, kQK4_0).value / -8.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    BlockQ4_0 block;
    block.d = fp32_to_fp16(d);
    for (int j = 0; j < kQK4_0 / 2; ++j) {
      const int lo = truncate_clamped(x[j] * id + 8.5f, 0, 15);
      const int hi = truncate_clamped(x[j + kQK4_0 / 2] * id + 8.5f, 0, 15);
      block.qs[j] = static_cast<uint8_t>(lo | (hi << 4));
    }
    store_block(block, dst, b);
  }
}

void quantize_q5_0(const float* x, uint8_t* dst, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b, x += kQK5_0) {
    const float d = signed_max(x, kQK5_0).value / -16.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    BlockQ5_0 block;
    block.d = fp32_to_fp16(d);
    uint32_t qh = 0;
    for (int j = 0; j < kQK5_0 / 2; ++j) {
      const int lo = truncate_clamped(x[j] * id + 16.5f, 0, 31);
      const int hi = truncate_clamped(x[j + kQK5_0 / 2] * id + 16.5f, 0, 31);
      block.qs[j] = static_cast<uint8_t>((lo & 15) | ((hi & 15) << 4));
      qh |= static_cast<uint32_t>(lo >> 4) << j;
      qh |= static_cast<uint32_t>(hi >> 4) << (j + kQK5_0 / 2);
    }
    for (int k = 0; k < 4; ++k) block.qh[k] = static_cast<uint8_t>(qh >> (8 * k));
    store_block(block, dst, b);
  }
}

// Q4_1/Q5_1: levels spread evenly from the block's min to its max.
struct MinMax {
  float min = FLT_MAX;
  float max = -FLT_MAX;
};
MinMax min_max(const float* x, int n) {
  MinMax r;
  for (int j = 0; j < n; ++j) {
    if (x[j] < r.min) r.min = x[j];
    if (x[j] > r.max) r.max = x[j];
  }
  return r;
}

void quantize_q4_1(const float* x, uint8_t* dst, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b, x += kQK4_1) {
    const MinMax range = min_max(x, kQK4_1);
    const float d = (range.max - range.min) / 15.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    BlockQ4_1 block;
    block.d = fp32_to_fp16(d);
    block.m = fp32_to_fp16(range.min);
    for (int j = 0; j < kQK4_1 / 2; ++j) {
      const int lo = truncate_clamped((x[j] - range.min) * id + 0.5f, 0, 15);
      const int hi = truncate_clamped((x[j + kQK4_1 / 2] - range.min) * id + 0.5f, 0, 15);
      block.qs[j] = static_cast<uint8_t>(lo | (hi << 4));
    }
    store_block(block, dst, b);
  }
}

void quantize_q5_1(const float* x, uint8_t* dst, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b, x += kQK5_1) {
    const MinMax range = min_max(x, kQK5_1);
    const float d = (range.max - range.min) / 31.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    BlockQ5_1 block;
    block.d = fp32_to_fp16(d);
    block.m = fp32_to_fp16(range.min);
    uint32_t qh = 0;
    for (int j = 0; j < kQK5_1 / 2; ++j) {
      const int lo = truncate_clamped((x[j] - range.min) * id + 0.5f, 0, 31);
      const int hi = truncate_clamped((x[j + kQK5_1 / 2] - range.min) * id + 0.5f, 0, 31);
      block.qs[j] = static_cast<uint8_t>((lo & 15) | ((hi & 15) << 4));
      qh |= static_cast<uint32_t>(lo >> 4) << j;
      qh |= static_cast<uint32_t>(hi >> 4) << (j + kQK5_1 / 2);
    }
    for (int k = 0; k < 4; ++k) block.qh[k] = static_cast<uint8_t>(qh >> (8 * k));
    store_block(block, dst, b);
  }
}

// The code whose value (times the block scale) is nearest to v; the lowest code wins ties, so
// zero is +0 (code 0), never -0 (code 8).
inline uint8_t nearest_mxfp4_code(float v, float scale) {
  int best = 0;
  float best_error = std::fabs(static_cast<float>(kMxfp4Values[0]) * scale - v);
  for (int code = 1; code < 16; ++code) {
    const float error = std::fabs(static_cast<float>(kMxfp4Values[code]) * scale - v);
    if (error < best_error) {
      best = code;
      best_error = error;
    }
  }
  return static_cast<uint8_t>(best);
}

void quantize_mxfp4(const float* x, uint8_t* dst, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b, x += kQK_MXFP4) {
    const float amax = signed_max(x, kQK_MXFP4).abs_max;
    // The exponent puts amax in [4, 8) x 2^(e-128): the top codes (+-8, +-12) cover it. ggml
    // uses log2f (not an exact floor of the exponent) and so does this, to agree near powers of 2.
    int e = 0;
    if (amax > 0.0f) {
      const float exponent = std::floor(std::log2(amax)) - 2.0f + 127.0f;
      e = exponent <= 0.0f ? 0 : exponent >= 255.0f ? 255 : static_cast<int>(exponent);
    }
    BlockMXFP4 block;
    block.e = static_cast<uint8_t>(e);
    const float scale = e8m0_to_fp32_half(block.e);
    for (int j = 0; j < kQK_MXFP4 / 2; ++j) {
      const uint8_t lo = nearest_mxfp4_code(x[j], scale);
      const uint8_t hi = nearest_mxfp4_code(x[j + kQK_MXFP4 / 2], scale);
      block.qs[j] = static_cast<uint8_t>(lo | (hi << 4));
    }
    store_block(block, dst, b);
  }
}

void quantize_q8_k(const float* x, uint8_t* dst, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b, x += kQK_K) {
    BlockQ8_K block{};
    const SignedMax peak = signed_max(x, kQK_K);
    if (peak.abs_max != 0.0f) {
      // Negative iscale when the peak is positive: the peak lands on -127 exactly, as in ggml.
      const float iscale = -127.0f / peak.value;
      for (int j = 0; j < kQK_K; ++j) {
        block.qs[j] = static_cast<int8_t>(std::min(127, round_half_even(iscale * x[j])));
      }
      for (int g = 0; g < kQK_K / 16; ++g) {
        int sum = 0;
        for (int l = 0; l < 16; ++l) sum += block.qs[16 * g + l];
        block.bsums[g] = static_cast<int16_t>(sum);
      }
      block.d = 1.0f / iscale;
    }
    store_block(block, dst, b);
  }
}

}  // namespace

bool can_quantize(GgmlType type) {
  switch (type) {
    case GgmlType::F32:
    case GgmlType::F16:
    case GgmlType::BF16:
    case GgmlType::Q4_0:
    case GgmlType::Q4_1:
    case GgmlType::Q5_0:
    case GgmlType::Q5_1:
    case GgmlType::Q8_0:
    case GgmlType::Q8_1:
    case GgmlType::Q4_K:
    case GgmlType::Q5_K:
    case GgmlType::Q6_K:
    case GgmlType::Q8_K:
    case GgmlType::MXFP4:
      return true;
    default:
      return false;
  }
}

void quantize_row_activations(GgmlType type, const float* src, void* dst_void, int64_t n) {
  if (type != GgmlType::Q8_0 && type != GgmlType::Q8_1 && type != GgmlType::Q8_K) {
    fail("tensor type {} is not an activation format", type_label(type));
  }
  const int64_t n_blocks = checked_blocks(ggml_type_traits(type), n);
  auto* dst = static_cast<uint8_t*>(dst_void);
  switch (type) {
    case GgmlType::Q8_0:
      return quantize_q8_x86<BlockQ8_0>(src, dst, n_blocks);
    case GgmlType::Q8_1:
      return quantize_q8_x86<BlockQ8_1>(src, dst, n_blocks);
    default:
      return quantize_q8_k(src, dst, n_blocks);
  }
}

void quantize_row(GgmlType type, const float* src, void* dst_void, int64_t n) {
  if (!can_quantize(type)) {
    fail("cannot quantize to tensor type {}", type_label(type));
  }
  const auto& traits = ggml_type_traits(type);
  const int64_t n_blocks = checked_blocks(traits, n);
  auto* dst = static_cast<uint8_t*>(dst_void);
  switch (type) {
    case GgmlType::F32:
      if (n > 0) std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
      return;
    case GgmlType::F16:
      for (int64_t i = 0; i < n; ++i) {
        const uint16_t h = fp32_to_fp16(src[i]);
        std::memcpy(dst + 2 * i, &h, 2);
      }
      return;
    case GgmlType::BF16:
      for (int64_t i = 0; i < n; ++i) {
        const uint16_t h = fp32_to_bf16(src[i]);
        std::memcpy(dst + 2 * i, &h, 2);
      }
      return;
    case GgmlType::Q4_0:
      return quantize_q4_0(src, dst, n_blocks);
    case GgmlType::Q4_1:
      return quantize_q4_1(src, dst, n_blocks);
    case GgmlType::Q5_0:
      return quantize_q5_0(src, dst, n_blocks);
    case GgmlType::Q5_1:
      return quantize_q5_1(src, dst, n_blocks);
    case GgmlType::Q8_0:
      return quantize_q8_0(src, dst, n_blocks);
    case GgmlType::Q8_1:
      return quantize_q8_1(src, dst, n_blocks);
    case GgmlType::Q4_K:
      return quantize_q4_k(src, dst, n_blocks);
    case GgmlType::Q5_K:
      return quantize_q5_k(src, dst, n_blocks);
    case GgmlType::Q6_K:
      return quantize_q6_k(src, dst, n_blocks);
    case GgmlType::Q8_K:
      return quantize_q8_k(src, dst, n_blocks);
    case GgmlType::MXFP4:
      return quantize_mxfp4(src, dst, n_blocks);
    default:
      break;
  }
  fail("internal error: no quantizer for tensor type {}", traits.name);
}

}  // namespace moescope
