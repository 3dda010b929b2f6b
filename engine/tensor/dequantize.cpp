#include "engine/tensor/dequantize.h"

#include <cstring>
#include <string>
#include <vector>

#include "engine/common/error.h"
#include "engine/tensor/blocks.h"
#include "engine/tensor/fp16.h"

namespace moescope {
namespace {

// Blocks in a file are not necessarily aligned for their struct, so each block is copied out
// first; the copy is small and the compiler turns it into a few moves.
template <typename Block>
Block load_block(const uint8_t* src, int64_t index) {
  Block block;
  std::memcpy(&block, src + index * static_cast<int64_t>(sizeof(Block)), sizeof(Block));
  return block;
}

// Whole F16 tensors go through a table (256 KiB, built on first use): several times faster than
// the branchy conversion.
const float* fp16_table() {
  static const std::vector<float> table = [] {
    std::vector<float> t(65536);
    for (uint32_t h = 0; h < 65536; ++h) t[h] = fp16_to_fp32(static_cast<uint16_t>(h));
    return t;
  }();
  return table.data();
}

void dequantize_f16(const uint8_t* src, float* dst, int64_t n) {
  const float* table = fp16_table();
  for (int64_t i = 0; i < n; ++i) {
    uint16_t h;
    std::memcpy(&h, src + 2 * i, 2);
    dst[i] = table[h];
  }
}

void dequantize_bf16(const uint8_t* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    uint16_t h;
    std::memcpy(&h, src + 2 * i, 2);
    dst[i] = bf16_to_fp32(h);
  }
}

void dequantize_q4_0(const uint8_t* src, float* dst, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b, dst += kQK4_0) {
    const auto block = load_block<BlockQ4_0>(src, b);
    const float d = fp16_to_fp32(block.d);
    for (int j = 0; j < kQK4_0 / 2; ++j) {
      dst[j] = static_cast<float>((block.qs[j] & 15) - 8) * d;
      dst[j + kQK4_0 / 2] = static_cast<float>((block.qs[j] >> 4) - 8) * d;
    }
  }
}

void dequantize_q4_1(const uint8_t* src, float* dst, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b, dst += kQK4_1) {
    const auto block = load_block<BlockQ4_1>(src, b);
    const float d = fp16_to_fp32(block.d);
    const float m = fp16_to_fp32(block.m);
    for (int j = 0; j < kQK4_1 / 2; ++j) {
      dst[j] = static_cast<float>(block.qs[j] & 15) * d + m;
      dst[j + kQK4_1 / 2] = static_cast<float>(block.qs[j] >> 4) * d + m;
    }
  }
}

// The 5th bits of Q5_0/Q5_1: bit j of the little-endian qh word belongs to value j.
inline uint32_t load_qh(const uint8_t qh[4]) {
  return static_cast<uint32_t>(qh[0]) | (static_cast<uint32_t>(qh[1]) << 8) |
         (static_cast<uint32_t>(qh[2]) << 16) | (static_cast<uint32_t>(qh[3]) << 24);
}

void dequantize_q5_0(const uint8_t* src, float* dst, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b, dst += kQK5_0) {
    const auto block = load_block<BlockQ5_0>(src, b);
    const float d = fp16_to_fp32(block.d);
    const uint32_t qh = load_qh(block.qh);
    for (int j = 0; j < kQK5_0 / 2; ++j) {
      const int lo = static_cast<int>((block.qs[j] & 15) | (((qh >> j) & 1) << 4));
      const int hi = static_cast<int>((block.qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4));
      dst[j] = static_cast<float>(lo - 16) * d;
      dst[j + kQK5_0 / 2] = static_cast<float>(hi - 16) * d;
    }
  }
}

void dequantize_q5_1(const uint8_t* src, float* dst, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b, dst += kQK5_1) {
    const auto block = load_block<BlockQ5_1>(src, b);
    const float d = fp16_to_fp32(block.d);
    const float m = fp16_to_fp32(block.m);
    const uint32_t qh = load_qh(block.qh);
    for (int j = 0; j < kQK5_1 / 2; ++j) {
      const uint32_t lo = (block.qs[j] & 15) | (((qh >> j) & 1) << 4);
      const uint32_t hi = (block.qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4);
      dst[j] = static_cast<float>(lo) * d + m;
      dst[j + kQK5_1 / 2] = static_cast<float>(hi) * d + m;
    }
  }
}

void dequantize_q8_0(const uint8_t* src, float* dst, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b, dst += kQK8_0) {
    const auto block = load_block<BlockQ8_0>(src, b);
    const float d = fp16_to_fp32(block.d);
    for (int j = 0; j < kQK8_0; ++j) dst[j] = static_cast<float>(block.qs[j]) * d;
  }
}

void dequantize_q8_1(const uint8_t* src, float* dst, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b, dst += kQK8_1) {
    const auto block = load_block<BlockQ8_1>(src, b);
    const float d = fp16_to_fp32(block.d);
    for (int j = 0; j < kQK8_1; ++j) dst[j] = static_cast<float>(block.qs[j]) * d;
  }
}

void dequantize_q4_k(const uint8_t* src, float* dst, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b) {
    const auto block = load_block<BlockQ4_K>(src, b);
    const float d = fp16_to_fp32(block.d);
    const float dmin = fp16_to_fp32(block.dmin);
    // Chunk c of 32 bytes: low nibbles are sub-block 2c, high nibbles sub-block 2c+1.
    for (int c = 0; c < 4; ++c) {
      const uint8_t* q = block.qs + 32 * c;
      uint8_t sc, m;
      k_scale_min(2 * c, block.scales, &sc, &m);
      const float d_lo = d * sc, m_lo = dmin * m;
      k_scale_min(2 * c + 1, block.scales, &sc, &m);
      const float d_hi = d * sc, m_hi = dmin * m;
      for (int l = 0; l < 32; ++l) *dst++ = d_lo * static_cast<float>(q[l] & 15) - m_lo;
      for (int l = 0; l < 32; ++l) *dst++ = d_hi * static_cast<float>(q[l] >> 4) - m_hi;
    }
  }
}

void dequantize_q5_k(const uint8_t* src, float* dst, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b) {
    const auto block = load_block<BlockQ5_K>(src, b);
    const float d = fp16_to_fp32(block.d);
    const float dmin = fp16_to_fp32(block.dmin);
    for (int c = 0; c < 4; ++c) {
      const uint8_t* q = block.qs + 32 * c;
      const uint8_t bit_lo = static_cast<uint8_t>(1u << (2 * c));
      const uint8_t bit_hi = static_cast<uint8_t>(2u << (2 * c));
      uint8_t sc, m;
      k_scale_min(2 * c, block.scales, &sc, &m);
      const float d_lo = d * sc, m_lo = dmin * m;
      k_scale_min(2 * c + 1, block.scales, &sc, &m);
      const float d_hi = d * sc, m_hi = dmin * m;
      for (int l = 0; l < 32; ++l) {
        const int v = (q[l] & 15) + ((block.qh[l] & bit_lo) ? 16 : 0);
        *dst++ = d_lo * static_cast<float>(v) - m_lo;
      }
      for (int l = 0; l < 32; ++l) {
        const int v = (q[l] >> 4) + ((block.qh[l] & bit_hi) ? 16 : 0);
        *dst++ = d_hi * static_cast<float>(v) - m_hi;
      }
    }
  }
}

void dequantize_q6_k(const uint8_t* src, float* dst, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b) {
    const auto block = load_block<BlockQ6_K>(src, b);
    const float d = fp16_to_fp32(block.d);
    // Two halves of 128 values, each with 64 bytes of ql, 32 of qh and 8 scales.
    for (int half = 0; half < 2; ++half, dst += 128) {
      const uint8_t* ql = block.ql + 64 * half;
      const uint8_t* qh = block.qh + 32 * half;
      const int8_t* sc = block.scales + 8 * half;
      for (int l = 0; l < 32; ++l) {
        const int is = l / 16;
        const int q0 = ((ql[l] & 15) | (((qh[l] >> 0) & 3) << 4)) - 32;
        const int q1 = ((ql[l + 32] & 15) | (((qh[l] >> 2) & 3) << 4)) - 32;
        const int q2 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
        const int q3 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
        // ggml multiplies (d * scale) first, then by q.
        dst[l] = d * static_cast<float>(sc[is + 0]) * static_cast<float>(q0);
        dst[l + 32] = d * static_cast<float>(sc[is + 2]) * static_cast<float>(q1);
        dst[l + 64] = d * static_cast<float>(sc[is + 4]) * static_cast<float>(q2);
        dst[l + 96] = d * static_cast<float>(sc[is + 6]) * static_cast<float>(q3);
      }
    }
  }
}

void dequantize_q8_k(const uint8_t* src, float* dst, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b, dst += kQK_K) {
    const auto block = load_block<BlockQ8_K>(src, b);
    for (int j = 0; j < kQK_K; ++j) dst[j] = block.d * static_cast<float>(block.qs[j]);
  }
}

void dequantize_mxfp4(const uint8_t* src, float* dst, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b, dst += kQK_MXFP4) {
    const auto block = load_block<BlockMXFP4>(src, b);
    const float d = e8m0_to_fp32_half(block.e);
    for (int j = 0; j < kQK_MXFP4 / 2; ++j) {
      dst[j] = static_cast<float>(kMxfp4Values[block.qs[j] & 15]) * d;
      dst[j + kQK_MXFP4 / 2] = static_cast<float>(kMxfp4Values[block.qs[j] >> 4]) * d;
    }
  }
}

}  // namespace

bool can_dequantize(GgmlType type) {
  if (type == GgmlType::Q8_1 || type == GgmlType::Q8_K) return true;
  return ggml_type_traits(static_cast<uint32_t>(type)).value_or(GgmlTypeTraits{}).dequantizable;
}

void dequantize_row(GgmlType type, const void* src_void, float* dst, int64_t n) {
  if (!can_dequantize(type)) {
    const auto known = ggml_type_traits(static_cast<uint32_t>(type));
    fail("cannot dequantize tensor type {}",
         known ? std::string(known->name) : fmt::format("#{}", static_cast<uint32_t>(type)));
  }
  const auto& traits = ggml_type_traits(type);
  if (n < 0 || n % traits.block_size != 0) {
    fail("cannot dequantize {} values of type {}: not a multiple of its block size {}", n,
         traits.name, traits.block_size);
  }
  const auto* src = static_cast<const uint8_t*>(src_void);
  const int64_t n_blocks = n / traits.block_size;
  switch (type) {
    case GgmlType::F32:
      if (n > 0) std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
      return;
    case GgmlType::F16:
      return dequantize_f16(src, dst, n);
    case GgmlType::BF16:
      return dequantize_bf16(src, dst, n);
    case GgmlType::Q4_0:
      return dequantize_q4_0(src, dst, n_blocks);
    case GgmlType::Q4_1:
      return dequantize_q4_1(src, dst, n_blocks);
    case GgmlType::Q5_0:
      return dequantize_q5_0(src, dst, n_blocks);
    case GgmlType::Q5_1:
      return dequantize_q5_1(src, dst, n_blocks);
    case GgmlType::Q8_0:
      return dequantize_q8_0(src, dst, n_blocks);
    case GgmlType::Q8_1:
      return dequantize_q8_1(src, dst, n_blocks);
    case GgmlType::Q4_K:
      return dequantize_q4_k(src, dst, n_blocks);
    case GgmlType::Q5_K:
      return dequantize_q5_k(src, dst, n_blocks);
    case GgmlType::Q6_K:
      return dequantize_q6_k(src, dst, n_blocks);
    case GgmlType::Q8_K:
      return dequantize_q8_k(src, dst, n_blocks);
    case GgmlType::MXFP4:
      return dequantize_mxfp4(src, dst, n_blocks);
    default:
      break;
  }
  fail("internal error: no dequantizer for tensor type {}", traits.name);
}

}  // namespace moescope
