#include "tests/engine/tensor/spec_decoder.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>

namespace moescope::spec {
namespace {

// `count` bits starting at bit `first` of the block, little-endian bit numbering (bit 0 is the
// least significant bit of byte 0).
uint32_t bits(std::span<const uint8_t> block, int first, int count) {
  uint32_t value = 0;
  for (int k = 0; k < count; ++k) {
    const int bit = first + k;
    const uint32_t b = (block[static_cast<size_t>(bit / 8)] >> (bit % 8)) & 1u;
    value |= b << k;
  }
  return value;
}

uint32_t byte_at(std::span<const uint8_t> block, int offset) {
  return bits(block, 8 * offset, 8);
}

int32_t signed_byte_at(std::span<const uint8_t> block, int offset) {
  const int32_t u = static_cast<int32_t>(byte_at(block, offset));
  return u >= 128 ? u - 256 : u;
}

float half_at(std::span<const uint8_t> block, int offset) {
  return half_value(static_cast<uint16_t>(bits(block, 8 * offset, 16)));
}

// Low nibble of byte `offset` when `high` is false, else the high nibble.
uint32_t nibble_at(std::span<const uint8_t> block, int offset, bool high) {
  return bits(block, 8 * offset + (high ? 4 : 0), 4);
}

// "K-quant 6-bit scale packing" of the notes: sub-block j's (sc, m) from the 12 scale bytes that
// start at `base`.
void k_scale(std::span<const uint8_t> block, int base, int j, uint32_t* sc, uint32_t* m) {
  auto s = [&](int i) { return byte_at(block, base + i); };
  if (j < 4) {
    *sc = s(j) % 64;
    *m = s(j + 4) % 64;
  } else {
    *sc = s(j + 4) % 16 + (s(j - 4) / 64) * 16;
    *m = s(j + 4) / 16 + (s(j) / 64) * 16;
  }
}

constexpr int kMxfp4Table[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};

}  // namespace

std::optional<Geometry> geometry(GgmlType type) {
  switch (type) {
    case GgmlType::F32:
      return Geometry{1, 4};
    case GgmlType::F16:
      return Geometry{1, 2};
    case GgmlType::BF16:
      return Geometry{1, 2};
    case GgmlType::Q4_0:
      return Geometry{32, 18};
    case GgmlType::Q4_1:
      return Geometry{32, 20};
    case GgmlType::Q5_0:
      return Geometry{32, 22};
    case GgmlType::Q5_1:
      return Geometry{32, 24};
    case GgmlType::Q8_0:
      return Geometry{32, 34};
    case GgmlType::Q4_K:
      return Geometry{256, 144};
    case GgmlType::Q5_K:
      return Geometry{256, 176};
    case GgmlType::Q6_K:
      return Geometry{256, 210};
    case GgmlType::MXFP4:
      return Geometry{32, 17};
    default:
      return std::nullopt;
  }
}

float half_value(uint16_t h) {
  const int sign = h >> 15;
  const int exponent = (h >> 10) & 31;
  const int mantissa = h & 1023;
  float magnitude;
  if (exponent == 0) {
    magnitude = std::ldexp(static_cast<float>(mantissa), -24);
  } else if (exponent == 31) {
    magnitude = mantissa == 0 ? std::numeric_limits<float>::infinity()
                              : std::numeric_limits<float>::quiet_NaN();
  } else {
    magnitude = std::ldexp(static_cast<float>(1024 + mantissa), exponent - 25);
  }
  return sign ? -magnitude : magnitude;
}

float bf16_value(uint16_t h) {
  // "f32 bits = u16 << 16": the two bytes become the upper half of a little-endian float.
  const uint8_t bytes[4] = {0, 0, static_cast<uint8_t>(h & 0xff), static_cast<uint8_t>(h >> 8)};
  float f;
  std::memcpy(&f, bytes, 4);
  return f;
}

float decode_value(GgmlType type, std::span<const uint8_t> b, int v) {
  switch (type) {
    case GgmlType::F32: {
      float f;
      std::memcpy(&f, b.data(), 4);
      return f;
    }
    case GgmlType::F16:
      return half_at(b, 0);
    case GgmlType::BF16:
      return bf16_value(static_cast<uint16_t>(bits(b, 0, 16)));
    case GgmlType::Q4_0: {  // d; qs[16]
      const int q = static_cast<int>(nibble_at(b, 2 + v % 16, v >= 16));
      return half_at(b, 0) * static_cast<float>(q - 8);
    }
    case GgmlType::Q4_1: {  // d; m; qs[16]
      const uint32_t q = nibble_at(b, 4 + v % 16, v >= 16);
      return half_at(b, 0) * static_cast<float>(q) + half_at(b, 2);
    }
    case GgmlType::Q5_0: {  // d; qh[4]; qs[16]
      const uint32_t q = nibble_at(b, 6 + v % 16, v >= 16) + 16 * bits(b, 8 * 2 + v, 1);
      return half_at(b, 0) * static_cast<float>(static_cast<int>(q) - 16);
    }
    case GgmlType::Q5_1: {  // d; m; qh[4]; qs[16]
      const uint32_t q = nibble_at(b, 8 + v % 16, v >= 16) + 16 * bits(b, 8 * 4 + v, 1);
      return half_at(b, 0) * static_cast<float>(q) + half_at(b, 2);
    }
    case GgmlType::Q8_0:  // d; qs[32]
      return half_at(b, 0) * static_cast<float>(signed_byte_at(b, 2 + v));
    case GgmlType::Q4_K:    // d; dmin; scales[12]; qs[128]
    case GgmlType::Q5_K: {  // d; dmin; scales[12]; qh[32]; qs[128]
      const bool five = type == GgmlType::Q5_K;
      const int chunk = v / 64;
      const bool high = v % 64 >= 32;
      const int l = v % 32;
      const int sub = 2 * chunk + (high ? 1 : 0);
      const int qs_base = five ? 48 : 16;
      uint32_t q = nibble_at(b, qs_base + 32 * chunk + l, high);
      if (five) q += 16 * bits(b, 8 * (16 + l) + sub, 1);
      uint32_t sc, m;
      k_scale(b, 4, sub, &sc, &m);
      return half_at(b, 0) * static_cast<float>(sc) * static_cast<float>(q) -
             half_at(b, 2) * static_cast<float>(m);
    }
    case GgmlType::Q6_K: {  // ql[128]; qh[64]; scales[16]; d
      const int half = v / 128;
      const int group = (v % 128) / 32;  // which of the four values sharing a qh byte
      const int l = v % 32;
      const uint32_t low4 = nibble_at(b, 64 * half + l + (group % 2 ? 32 : 0), group >= 2);
      const uint32_t high2 = bits(b, 8 * (128 + 32 * half + l) + 2 * group, 2);
      const int q = static_cast<int>(low4 + 16 * high2) - 32;
      const int32_t sc = signed_byte_at(b, 192 + 8 * half + l / 16 + 2 * group);
      return half_at(b, 208) * static_cast<float>(sc) * static_cast<float>(q);
    }
    case GgmlType::MXFP4: {  // e; qs[16]
      const int e = static_cast<int>(byte_at(b, 0));
      const int code = static_cast<int>(nibble_at(b, 1 + v % 16, v >= 16));
      return static_cast<float>(kMxfp4Table[code]) * std::ldexp(1.0f, e - 128);
    }
    default:
      break;
  }
  throw std::runtime_error("spec decoder: unsupported type");
}

std::vector<float> decode_row(GgmlType type, std::span<const uint8_t> bytes) {
  const auto g = geometry(type);
  if (!g || bytes.size() % static_cast<size_t>(g->bytes) != 0) {
    throw std::runtime_error("spec decoder: bad type or size");
  }
  const size_t n_blocks = bytes.size() / static_cast<size_t>(g->bytes);
  std::vector<float> out;
  out.reserve(n_blocks * static_cast<size_t>(g->values));
  for (size_t i = 0; i < n_blocks; ++i) {
    const auto block =
        bytes.subspan(i * static_cast<size_t>(g->bytes), static_cast<size_t>(g->bytes));
    for (int v = 0; v < g->values; ++v) out.push_back(decode_value(type, block, v));
  }
  return out;
}

}  // namespace moescope::spec
