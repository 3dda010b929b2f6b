// dequantize_row against the independent spec decoder on random blocks, and against values worked
// out by hand from the notes.
#include "engine/tensor/dequantize.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "engine/common/error.h"
#include "engine/tensor/blocks.h"
#include "engine/tensor/fp16.h"
#include "tests/engine/tensor/spec_decoder.h"

namespace moescope {
namespace {

constexpr GgmlType kWeightTypes[] = {GgmlType::F32,  GgmlType::F16,  GgmlType::BF16,
                                     GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0,
                                     GgmlType::Q5_1, GgmlType::Q8_0, GgmlType::Q4_K,
                                     GgmlType::Q5_K, GgmlType::Q6_K, GgmlType::MXFP4};

// Same float, bit for bit (any NaN matches any NaN: payloads are not part of the formats).
::testing::AssertionResult same_float(float expected, float actual) {
  if (std::isnan(expected) && std::isnan(actual)) return ::testing::AssertionSuccess();
  if (std::bit_cast<uint32_t>(expected) == std::bit_cast<uint32_t>(actual)) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure()
         << "expected " << expected << " (0x" << std::hex << std::bit_cast<uint32_t>(expected)
         << "), got " << actual << " (0x" << std::bit_cast<uint32_t>(actual) << ")";
}

std::vector<float> dequantize(GgmlType type, const std::vector<uint8_t>& bytes) {
  const auto g = spec::geometry(type).value();
  const int64_t n = static_cast<int64_t>(bytes.size() / g.bytes) * g.values;
  std::vector<float> out(static_cast<size_t>(n), -1.0f);
  dequantize_row(type, bytes.data(), out.data(), n);
  return out;
}

// Random bytes; with `finite_scales` every 2-byte position that could be an fp16 scale holds a
// finite half instead (position depends on the type; F16 and F32 themselves stay random).
std::vector<uint8_t> random_blocks(GgmlType type, int n_blocks, std::mt19937& rng,
                                   bool finite_scales) {
  const auto g = spec::geometry(type).value();
  std::vector<uint8_t> bytes(static_cast<size_t>(n_blocks * g.bytes));
  std::uniform_int_distribution<int> byte(0, 255);
  for (auto& b : bytes) b = static_cast<uint8_t>(byte(rng));
  if (!finite_scales) return bytes;
  std::vector<int> half_offsets;
  switch (type) {
    case GgmlType::Q4_0:
    case GgmlType::Q5_0:
    case GgmlType::Q8_0:
      half_offsets = {0};
      break;
    case GgmlType::Q4_1:
    case GgmlType::Q5_1:
    case GgmlType::Q4_K:
    case GgmlType::Q5_K:
      half_offsets = {0, 2};
      break;
    case GgmlType::Q6_K:
      half_offsets = {208};
      break;
    default:
      break;
  }
  for (int b = 0; b < n_blocks; ++b) {
    for (int off : half_offsets) {
      uint8_t& hi = bytes[static_cast<size_t>(b * g.bytes + off + 1)];
      if ((hi & 0x7c) == 0x7c) hi = static_cast<uint8_t>(hi & ~0x04);  // exponent 31 -> 30
    }
  }
  return bytes;
}

TEST(Dequantize, RandomBlocksMatchSpecDecoder) {
  std::mt19937 rng(2024);
  for (const GgmlType type : kWeightTypes) {
    for (const bool finite : {true, false}) {
      const auto bytes = random_blocks(type, 97, rng, finite);
      const auto ours = dequantize(type, bytes);
      const auto spec = spec::decode_row(type, bytes);
      ASSERT_EQ(ours.size(), spec.size());
      for (size_t i = 0; i < ours.size(); ++i) {
        ASSERT_TRUE(same_float(spec[i], ours[i]))
            << ggml_type_name(type) << " value " << i << (finite ? " (finite scales)" : "");
      }
    }
  }
}

TEST(Dequantize, SourceNeedsNoAlignment) {
  std::mt19937 rng(99);
  for (const GgmlType type : kWeightTypes) {
    const auto bytes = random_blocks(type, 8, rng, true);
    const auto aligned = dequantize(type, bytes);
    std::vector<uint8_t> shifted(bytes.size() + 1);
    std::memcpy(shifted.data() + 1, bytes.data(), bytes.size());
    std::vector<float> out(aligned.size());
    dequantize_row(type, shifted.data() + 1, out.data(), static_cast<int64_t>(out.size()));
    for (size_t i = 0; i < out.size(); ++i) ASSERT_TRUE(same_float(aligned[i], out[i]));
  }
}

TEST(Dequantize, Q4_0And4_1ByHand) {
  // d = 0.5 (0x3800); byte 0 = 0x1f: value 0 is nibble 15, value 16 nibble 1.
  std::vector<uint8_t> q4_0(18, 0x88);  // all other values: nibble 8 -> 0
  q4_0[0] = 0x00, q4_0[1] = 0x38, q4_0[2] = 0x1f;
  auto v = dequantize(GgmlType::Q4_0, q4_0);
  EXPECT_EQ(v[0], 3.5f);
  EXPECT_EQ(v[16], -3.5f);
  EXPECT_EQ(v[1], 0.0f);
  // Q4_1: d = 2, m = -1 (0xbc00); byte 15 = 0xf0: value 15 -> q 0 -> -1, value 31 -> q 15 -> 29.
  std::vector<uint8_t> q4_1(20, 0x00);
  q4_1[1] = 0x40, q4_1[3] = 0xbc, q4_1[4 + 15] = 0xf0;
  v = dequantize(GgmlType::Q4_1, q4_1);
  EXPECT_EQ(v[15], -1.0f);
  EXPECT_EQ(v[31], 29.0f);
  EXPECT_EQ(v[0], -1.0f);
}

TEST(Dequantize, Q5FifthBitsComeFromQhInValueOrder) {
  // Q5_0, d = 1: qh bit j is the 5th bit of value j (j = 0..31).
  std::vector<uint8_t> q5_0(22, 0);
  q5_0[1] = 0x3c;       // d = 1.0
  q5_0[2] = 0x01;       // bit 0  -> value 0
  q5_0[4] = 0x01;       // bit 16 -> value 16
  q5_0[5] = 0x80;       // bit 31 -> value 31
  q5_0[6 + 0] = 0x3f;   // value 0 nibble 15, value 16 nibble 3
  q5_0[6 + 15] = 0xf0;  // value 31 nibble 15
  auto v = dequantize(GgmlType::Q5_0, q5_0);
  EXPECT_EQ(v[0], 15.0f);   // 31 - 16
  EXPECT_EQ(v[16], 3.0f);   // 19 - 16
  EXPECT_EQ(v[31], 15.0f);  // 31 - 16
  EXPECT_EQ(v[15], -16.0f);
  // Q5_1, d = 0.25, m = 10: value 16 with 5th bit set and nibble 1 -> 17 * 0.25 + 10.
  std::vector<uint8_t> q5_1(24, 0);
  q5_1[1] = 0x34, q5_1[2] = 0x00, q5_1[3] = 0x49;  // d = 0.25, m = 10
  q5_1[6] = 0x01;                                  // bit 16
  q5_1[8 + 0] = 0x10;
  v = dequantize(GgmlType::Q5_1, q5_1);
  EXPECT_EQ(v[16], 14.25f);
  EXPECT_EQ(v[0], 10.0f);
}

TEST(Dequantize, Q8_0ByHand) {
  std::vector<uint8_t> q8(34, 0);
  q8[1] = 0xc0;  // d = -2
  q8[2] = 0x81;  // -127
  q8[33] = 0x7f;
  const auto v = dequantize(GgmlType::Q8_0, q8);
  EXPECT_EQ(v[0], 254.0f);
  EXPECT_EQ(v[31], -254.0f);
}

TEST(Dequantize, Q4_KScalePackingByHand) {
  // d = 1, dmin = 0.5. Sub-block 1 (j < 4): sc = s[1] & 63, m = s[5] & 63.
  // Sub-block 6 (j >= 4): sc = (s[10] & 15) | (s[2] >> 6) << 4, m = (s[10] >> 4) | (s[6] >> 6)
  // << 4.
  std::vector<uint8_t> b(144, 0);
  b[1] = 0x3c, b[3] = 0x38;
  b[4 + 1] = 0xc0 | 5;  // sc1 = 5 (top bits belong to sub-block 5)
  b[4 + 5] = 0x40 | 7;  // m1 = 7
  b[4 + 2] = 0x80 | 1;  // sc2 = 1, top bits 2 -> sc6 += 32
  b[4 + 6] = 0xc0 | 0;  // m2 = 0, top bits 3 -> m6 += 48
  b[4 + 10] = 0x9a;     // sc6 low = 10, m6 low = 9
  // Value 32 + 3 is sub-block 1 (chunk 0, high nibble of qs[3]); value 192 + 7 is sub-block 6
  // (chunk 3, low nibble of qs[96 + 7]).
  b[16 + 3] = 0xd0;       // high nibble 13
  b[16 + 96 + 7] = 0x0e;  // low nibble 14
  const auto v = dequantize(GgmlType::Q4_K, b);
  EXPECT_EQ(v[35], 1.0f * 5 * 13 - 0.5f * 7);
  EXPECT_EQ(v[199], 1.0f * 42 * 14 - 0.5f * 57);
  EXPECT_EQ(v[32], -0.5f * 7);  // q = 0
}

TEST(Dequantize, Q5_KFifthBitsByHand) {
  // All scales 1 and mins 0 (bytes 0..3 = 1; sub-blocks 4..7 from bytes 8..11 = 1), d = 1.
  std::vector<uint8_t> b(176, 0);
  b[1] = 0x3c;
  for (int j = 0; j < 4; ++j) b[4 + j] = 1;
  for (int j = 8; j < 12; ++j) b[4 + j] = 1;
  // Value 64*2 + 32 + 4 = 164: chunk 2, high nibble of qs[64 + 4], 5th bit = bit 5 of qh[4].
  b[48 + 64 + 4] = 0x70;
  b[16 + 4] = 1 << 5;
  const auto v = dequantize(GgmlType::Q5_K, b);
  EXPECT_EQ(v[164], 23.0f);
  EXPECT_EQ(v[132], 0.0f);  // same qs byte's low nibble (0), its bit 4 of qh[4] is clear
}

TEST(Dequantize, Q6_KScaleIsStoredLast) {
  std::vector<uint8_t> b(210, 0);
  b[208] = 0x00, b[209] = 0x40;  // d = 2 in the last two bytes
  // Value 128 + 64 + 17: second half, group 2 (high nibble of ql[64 + 17]), 2 high bits at bits
  // 4..5 of qh[32 + 17], scale index 8 + 17/16 + 4 = 13.
  b[64 + 17] = 0x90;        // high nibble 9
  b[128 + 32 + 17] = 0x30;  // high bits 3 -> q = 9 + 48 = 57
  b[192 + 13] = 0xfd;       // scale -3
  // Value 5: ql[5] low nibble, qh[5] bits 0..1, scale 0.
  b[5] = 0x01;
  b[192] = 0x02;
  auto v = dequantize(GgmlType::Q6_K, b);
  EXPECT_EQ(v[128 + 64 + 17], 2.0f * -3 * (57 - 32));
  EXPECT_EQ(v[5], 2.0f * 2 * (1 - 32));
  EXPECT_EQ(v[6], 2.0f * 2 * -32);
}

TEST(Dequantize, Mxfp4TableAndE8M0Powers) {
  // e = 127: x = E2M1 value (table / 2); nibble order as Q4_0.
  const float e2m1[16] = {0, 0.5, 1, 1.5, 2, 3, 4, 6, 0, -0.5, -1, -1.5, -2, -3, -4, -6};
  std::vector<uint8_t> b(17);
  b[0] = 127;
  for (int j = 0; j < 16; ++j) b[1 + j] = static_cast<uint8_t>(j | ((15 - j) << 4));
  auto v = dequantize(GgmlType::MXFP4, b);
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(v[j], e2m1[j]) << j;
    EXPECT_EQ(v[16 + j], e2m1[15 - j]) << j;
  }
  // e = 0 and 1: the float subnormals 2^-128 and 2^-127 are exact.
  b.assign(17, 0);
  b[1] = 0x71;  // value 0 code 1, value 16 code 7 (12)
  v = dequantize(GgmlType::MXFP4, b);
  EXPECT_EQ(v[0], 0x1p-128f);
  EXPECT_EQ(v[16], 0x1.8p-125f);
  b[0] = 1;
  v = dequantize(GgmlType::MXFP4, b);
  EXPECT_EQ(v[0], 0x1p-127f);
  b[0] = 200;
  v = dequantize(GgmlType::MXFP4, b);
  EXPECT_EQ(v[0], 0x1p72f);
  EXPECT_EQ(v[16], 0x1.8p75f);
}

TEST(Dequantize, ActivationFormats) {
  BlockQ8_1 q81{};
  q81.d = fp32_to_fp16(0.25f);
  q81.qs[3] = -8;
  std::vector<float> v(32);
  dequantize_row(GgmlType::Q8_1, &q81, v.data(), 32);
  EXPECT_EQ(v[3], -2.0f);
  BlockQ8_K q8k{};
  q8k.d = -0.125f;
  q8k.qs[255] = 127;
  v.resize(256);
  dequantize_row(GgmlType::Q8_K, &q8k, v.data(), 256);
  EXPECT_EQ(v[255], -15.875f);
  EXPECT_EQ(v[0], -0.0f);
}

TEST(Dequantize, RejectsBadLengthsAndTypes) {
  std::vector<uint8_t> bytes(1024);
  std::vector<float> out(1024);
  EXPECT_THROW(dequantize_row(GgmlType::Q8_0, bytes.data(), out.data(), 33), Error);
  EXPECT_THROW(dequantize_row(GgmlType::Q4_K, bytes.data(), out.data(), 128), Error);
  EXPECT_THROW(dequantize_row(GgmlType::F16, bytes.data(), out.data(), -2), Error);
  EXPECT_THROW(dequantize_row(GgmlType::Q2_K, bytes.data(), out.data(), 256), Error);
  EXPECT_THROW(dequantize_row(GgmlType::I32, bytes.data(), out.data(), 4), Error);
  EXPECT_THROW(dequantize_row(static_cast<GgmlType>(1000), bytes.data(), out.data(), 4), Error);
  EXPECT_NO_THROW(dequantize_row(GgmlType::Q8_0, bytes.data(), out.data(), 0));
  try {
    dequantize_row(GgmlType::Q4_K, bytes.data(), out.data(), 100);
    ADD_FAILURE() << "no error for a partial block";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "cannot dequantize 100 values of type Q4_K: not a multiple of its block size 256");
  }
  for (const GgmlType t : kWeightTypes) EXPECT_TRUE(can_dequantize(t)) << ggml_type_name(t);
  EXPECT_FALSE(can_dequantize(GgmlType::Q3_K));
}

}  // namespace
}  // namespace moescope
