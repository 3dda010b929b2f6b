// Reference quantizers: rounding rules worked by hand from the notes, and error bounds of
// quantize -> dequantize derived from each format's step size.
#include "engine/tensor/quantize.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "engine/common/error.h"
#include "engine/tensor/blocks.h"
#include "engine/tensor/dequantize.h"
#include "engine/tensor/fp16.h"

namespace moescope {
namespace {

std::vector<uint8_t> quantize(GgmlType type, const std::vector<float>& x) {
  const auto& traits = ggml_type_traits(type);
  std::vector<uint8_t> bytes(ggml_row_bytes(traits, x.size()), 0xcd);
  quantize_row(type, x.data(), bytes.data(), static_cast<int64_t>(x.size()));
  return bytes;
}

std::vector<float> round_trip(GgmlType type, const std::vector<float>& x) {
  const auto bytes = quantize(type, x);
  std::vector<float> y(x.size());
  dequantize_row(type, bytes.data(), y.data(), static_cast<int64_t>(x.size()));
  return y;
}

// Rows with different character: Gaussian at several scales, all-positive, one big outlier per
// block, constant, and tiny values.
std::vector<std::vector<float>> test_rows(int n) {
  std::mt19937 rng(31337);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<std::vector<float>> rows;
  for (const float scale : {1.0f, 0.02f, 300.0f}) {
    std::vector<float> r(static_cast<size_t>(n));
    for (auto& v : r) v = scale * normal(rng);
    rows.push_back(r);
  }
  std::vector<float> positive(static_cast<size_t>(n)), outlier(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    positive[static_cast<size_t>(i)] = 2.0f + std::fabs(normal(rng));
    outlier[static_cast<size_t>(i)] = i % 32 == 7 ? 40.0f : 0.1f * normal(rng);
  }
  rows.push_back(positive);
  rows.push_back(outlier);
  rows.push_back(std::vector<float>(static_cast<size_t>(n), -0.75f));
  std::vector<float> tiny(static_cast<size_t>(n));
  for (auto& v : tiny) v = 1e-3f * normal(rng);
  rows.push_back(tiny);
  return rows;
}

struct BlockStats {
  float amax = 0, min = INFINITY, max = -INFINITY;
};
BlockStats stats(const float* x, int n) {
  BlockStats s;
  for (int i = 0; i < n; ++i) {
    s.amax = std::max(s.amax, std::fabs(x[i]));
    s.min = std::min(s.min, x[i]);
    s.max = std::max(s.max, x[i]);
  }
  return s;
}

// Largest |x - dequantized| allowed for one block of a 32-value format: half a quantization step
// (a full step where a symmetric format clamps its top level), plus what rounding the scale and
// offset to fp16 can add over the block's levels (relative 2^-11, but absolute 2^-25 for scales
// that become half subnormals).
float block_bound(GgmlType type, const BlockStats& s) {
  auto fp16_error = [](float v) { return std::max(std::fabs(v) * 0x1p-11f, 0x1p-25f); };
  float bound = 0;
  switch (type) {
    case GgmlType::Q8_0:
    case GgmlType::Q8_1:
      bound = s.amax / 127 * 0.5f + 127 * fp16_error(s.amax / 127);
      break;
    case GgmlType::Q4_0:
      bound = s.amax / 8 + 8 * fp16_error(s.amax / 8);
      break;
    case GgmlType::Q5_0:
      bound = s.amax / 16 + 16 * fp16_error(s.amax / 16);
      break;
    case GgmlType::Q4_1: {
      const float d = (s.max - s.min) / 15;
      bound = d * 0.5f + 15 * fp16_error(d) + fp16_error(s.min);
      break;
    }
    case GgmlType::Q5_1: {
      const float d = (s.max - s.min) / 31;
      bound = d * 0.5f + 31 * fp16_error(d) + fp16_error(s.min);
      break;
    }
    default:
      break;
  }
  return bound * 1.001f;
}

TEST(Quantize, SmallBlockFormatsStayWithinHalfAStep) {
  for (const GgmlType type : {GgmlType::Q8_0, GgmlType::Q8_1, GgmlType::Q4_0, GgmlType::Q5_0,
                              GgmlType::Q4_1, GgmlType::Q5_1}) {
    for (const auto& x : test_rows(32 * 64)) {
      const auto y = round_trip(type, x);
      double total_error = 0, total_step = 0;
      for (size_t b = 0; b < x.size() / 32; ++b) {
        const BlockStats s = stats(&x[32 * b], 32);
        const float bound = block_bound(type, s) + 1e-30f;
        for (size_t i = 32 * b; i < 32 * b + 32; ++i) {
          ASSERT_LE(std::fabs(x[i] - y[i]), bound) << ggml_type_name(type) << " value " << i;
          total_error += std::fabs(x[i] - y[i]);
        }
        total_step += 32.0 * bound;
      }
      // Rounding errors spread over the step: the mean is well under the worst case.
      EXPECT_LT(total_error, 0.6 * total_step) << ggml_type_name(type);
    }
  }
}

// RMS error relative to the row's RMS for Gaussian data: the K-quants search for good scales,
// so they are compared with what a plain rounding grid of their bit width would give.
TEST(Quantize, KQuantsAreAccurateOnGaussianData) {
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(256 * 64);
  for (auto& v : x) v = normal(rng);
  const struct {
    GgmlType type;
    double max_relative_rms;
  } cases[] = {{GgmlType::Q4_K, 0.08},
               {GgmlType::Q5_K, 0.04},
               {GgmlType::Q6_K, 0.02},
               {GgmlType::Q8_K, 0.008}};
  for (const auto& c : cases) {
    const auto y = round_trip(c.type, x);
    double err2 = 0, sig2 = 0;
    for (size_t i = 0; i < x.size(); ++i) {
      err2 += (x[i] - y[i]) * (x[i] - y[i]);
      sig2 += x[i] * x[i];
    }
    const double rel = std::sqrt(err2 / sig2);
    EXPECT_LT(rel, c.max_relative_rms) << ggml_type_name(c.type);
    EXPECT_GT(rel, c.max_relative_rms / 4) << ggml_type_name(c.type);  // not lossless by accident
  }
}

TEST(Quantize, ZerosStayZeros) {
  const std::vector<float> zeros(512, 0.0f);
  for (const GgmlType type :
       {GgmlType::F16, GgmlType::BF16, GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0,
        GgmlType::Q5_1, GgmlType::Q8_0, GgmlType::Q8_1, GgmlType::Q4_K, GgmlType::Q5_K,
        GgmlType::Q6_K, GgmlType::Q8_K, GgmlType::MXFP4}) {
    const auto y = round_trip(type, zeros);
    for (float v : y) ASSERT_EQ(v, 0.0f) << ggml_type_name(type);
  }
}

TEST(Quantize, Q8_0RoundsHalfAwayFromZero) {
  // amax 127 -> d = 1 exactly, so x / d is x.
  std::vector<float> x(32, 0.0f);
  x[0] = 127, x[1] = 2.5f, x[2] = -2.5f, x[3] = 0.5f, x[4] = -0.5f, x[5] = 1.4999999f;
  const auto bytes = quantize(GgmlType::Q8_0, x);
  BlockQ8_0 b;
  std::memcpy(&b, bytes.data(), sizeof b);
  EXPECT_EQ(b.d, 0x3c00);
  EXPECT_EQ(b.qs[0], 127);
  EXPECT_EQ(b.qs[1], 3);
  EXPECT_EQ(b.qs[2], -3);
  EXPECT_EQ(b.qs[3], 1);
  EXPECT_EQ(b.qs[4], -1);
  EXPECT_EQ(b.qs[5], 1);
}

TEST(Quantize, Q8_1CarriesTheScaledSum) {
  std::mt19937 rng(8);
  std::normal_distribution<float> normal(0.0f, 3.0f);
  std::vector<float> x(32 * 16);
  for (auto& v : x) v = normal(rng);
  const auto bytes = quantize(GgmlType::Q8_1, x);
  for (size_t i = 0; i < 16; ++i) {
    BlockQ8_1 b;
    std::memcpy(&b, bytes.data() + i * sizeof b, sizeof b);
    const float d = stats(&x[32 * i], 32).amax / 127;
    int sum = 0;
    for (int q : b.qs) sum += q;
    EXPECT_EQ(b.d, fp32_to_fp16(d));
    EXPECT_EQ(b.s, fp32_to_fp16(static_cast<float>(sum) * d));
  }
}

TEST(Quantize, Q4_0AndQ5_0MapTheLargestMagnitudeToTheLowestLevel) {
  // Largest magnitude negative: max = -8 -> d = 1; q = min(15, (int)(x + 8.5)).
  std::vector<float> x(32, 0.0f);
  x[0] = -8, x[1] = 7, x[2] = 0.5f, x[3] = -0.5f, x[4] = 7.6f;
  auto y = round_trip(GgmlType::Q4_0, x);
  EXPECT_EQ(y[0], -8.0f);
  EXPECT_EQ(y[1], 7.0f);
  EXPECT_EQ(y[2], 1.0f);  // 9.0 truncates to 9: halves round up
  EXPECT_EQ(y[3], 0.0f);  // 8.0 -> 8
  EXPECT_EQ(y[4], 7.0f);  // 16.1 clamps to 15
  // Largest magnitude positive: d = -1, so +8 is exact and -8 clamps to -7.
  x.assign(32, 0.0f);
  x[0] = 8, x[1] = -8;
  y = round_trip(GgmlType::Q4_0, x);
  EXPECT_EQ(y[0], 8.0f);
  EXPECT_EQ(y[1], -7.0f);
  // Q5_0 likewise with 16 levels each side.
  x.assign(32, 0.0f);
  x[0] = 16, x[1] = -16, x[20] = 3.5f;
  y = round_trip(GgmlType::Q5_0, x);
  EXPECT_EQ(y[0], 16.0f);
  EXPECT_EQ(y[1], -15.0f);
  EXPECT_EQ(y[20], 3.0f);  // d = -1: -3.5 + 16.5 = 13 -> 13 - 16 = -3 -> times -1
}

TEST(Quantize, Q8_KRoundsToEvenAndSumsGroups) {
  std::vector<float> x(256, 0.0f);
  x[0] = 127, x[1] = 2.5f, x[2] = 3.5f, x[3] = -0.5f, x[17] = -100;
  const auto bytes = quantize(GgmlType::Q8_K, x);
  BlockQ8_K b;
  std::memcpy(&b, bytes.data(), sizeof b);
  EXPECT_EQ(b.d, -1.0f);  // peak positive: iscale = -127 / 127
  EXPECT_EQ(b.qs[0], -127);
  EXPECT_EQ(b.qs[1], -2);  // -2.5 -> -2 (even)
  EXPECT_EQ(b.qs[2], -4);  // -3.5 -> -4 (even)
  EXPECT_EQ(b.qs[3], 0);
  EXPECT_EQ(b.qs[17], 100);
  EXPECT_EQ(b.bsums[0], -127 - 2 - 4);
  EXPECT_EQ(b.bsums[1], 100);
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  x.resize(256 * 8);
  for (auto& v : x) v = normal(rng);
  const auto many = quantize(GgmlType::Q8_K, x);
  for (size_t i = 0; i < 8; ++i) {
    std::memcpy(&b, many.data() + i * sizeof b, sizeof b);
    for (int g = 0; g < 16; ++g) {
      int sum = 0;
      for (int l = 0; l < 16; ++l) sum += b.qs[16 * g + l];
      EXPECT_EQ(b.bsums[g], sum);
    }
    const auto peak = std::max_element(
        b.qs, b.qs + 256, [](int8_t a, int8_t c) { return std::abs(a) < std::abs(c); });
    EXPECT_EQ(*peak, -127);  // the peak value always lands on -127
  }
}

TEST(Quantize, Mxfp4PicksNearestCodeLowestOnTies) {
  // amax 6: floor(log2 6) - 2 + 127 = 127, so the grid is the E2M1 values.
  std::vector<float> x(32, 0.0f);
  x[0] = 6, x[1] = 5, x[2] = -5, x[3] = 0.25f, x[4] = -0.25f, x[5] = 1.2f, x[6] = -2.4f;
  const auto bytes = quantize(GgmlType::MXFP4, x);
  EXPECT_EQ(bytes[0], 127);
  auto code = [&](int j) { return j < 16 ? bytes[1 + j] & 15 : bytes[1 + j - 16] >> 4; };
  EXPECT_EQ(code(0), 7);   // 6
  EXPECT_EQ(code(1), 6);   // 5 ties 4 (code 6) and 6 (code 7): lower code
  EXPECT_EQ(code(2), 14);  // -5 ties -4 (14) and -6 (15)
  EXPECT_EQ(code(3), 0);   // 0.25 ties 0 and 0.5: +0
  EXPECT_EQ(code(4), 0);   // -0.25 ties +0, -0 and -0.5: code 0
  EXPECT_EQ(code(5), 2);   // 1.2 -> 1
  EXPECT_EQ(code(6), 12);  // -2.4 -> -2 (-3 is further)
  EXPECT_EQ(code(7), 0);
  // Above the grid's top the value saturates: amax 7.9 still uses e = 127.
  x[0] = 7.9f;
  EXPECT_EQ(round_trip(GgmlType::MXFP4, x)[0], 6.0f);
}

TEST(Quantize, Mxfp4EveryValueIsNearestOnTheChosenGrid) {
  std::mt19937 rng(17);
  std::lognormal_distribution<float> magnitude(0.0f, 3.0f);
  std::vector<float> x(32 * 200);
  for (size_t i = 0; i < x.size(); ++i) x[i] = (i % 3 ? 1.0f : -1.0f) * magnitude(rng);
  const auto bytes = quantize(GgmlType::MXFP4, x);
  std::vector<float> y(x.size());
  dequantize_row(GgmlType::MXFP4, bytes.data(), y.data(), static_cast<int64_t>(x.size()));
  for (size_t b = 0; b < x.size() / 32; ++b) {
    const float amax = stats(&x[32 * b], 32).amax;
    int k;
    std::frexp(amax, &k);  // amax = f * 2^k, f in [0.5, 1): floor(log2 amax) = k - 1
    ASSERT_EQ(bytes[17 * b], k - 1 - 2 + 127);
    const float scale = std::ldexp(1.0f, bytes[17 * b] - 128);
    for (size_t i = 32 * b; i < 32 * b + 32; ++i) {
      for (const int level : {0, 1, 2, 3, 4, 6, 8, 12, -1, -2, -3, -4, -6, -8, -12}) {
        ASSERT_LE(std::fabs(y[i] - x[i]), std::fabs(static_cast<float>(level) * scale - x[i]));
      }
    }
  }
}

TEST(Quantize, HalfFormatsAreThePlainConversions) {
  std::mt19937 rng(1);
  std::uniform_int_distribution<uint32_t> bits;
  std::vector<float> x(1000);
  for (auto& v : x)
    v = std::bit_cast<float>(bits(rng) & 0xbfffffffu);  // finite, |x| < 2, subnormals too
  const auto f16 = quantize(GgmlType::F16, x);
  const auto bf16 = quantize(GgmlType::BF16, x);
  const auto f32 = quantize(GgmlType::F32, x);
  for (size_t i = 0; i < x.size(); ++i) {
    uint16_t h, b;
    std::memcpy(&h, &f16[2 * i], 2);
    std::memcpy(&b, &bf16[2 * i], 2);
    EXPECT_EQ(h, std::bit_cast<uint16_t>(static_cast<_Float16>(x[i])));
    EXPECT_EQ(b, fp32_to_bf16(x[i]));
  }
  EXPECT_EQ(std::memcmp(f32.data(), x.data(), f32.size()), 0);
}

TEST(QuantizeActivations, X86VariantRoundsHalfToEvenWith127OverAmax) {
  std::vector<float> x(32, 0.0f);
  x[0] = 127, x[1] = 2.5f, x[2] = -2.5f, x[3] = 3.5f, x[4] = 0.5f;
  std::vector<uint8_t> bytes(sizeof(BlockQ8_1));
  quantize_row_activations(GgmlType::Q8_1, x.data(), bytes.data(), 32);
  BlockQ8_1 b;
  std::memcpy(&b, bytes.data(), sizeof b);
  EXPECT_EQ(b.d, 0x3c00);
  EXPECT_EQ(b.qs[1], 2);
  EXPECT_EQ(b.qs[2], -2);
  EXPECT_EQ(b.qs[3], 4);
  EXPECT_EQ(b.qs[4], 0);
  EXPECT_EQ(b.s, fp32_to_fp16(127 + 2 - 2 + 4));
}

TEST(QuantizeActivations, X86VariantDiffersFromReferenceByAtMostOneLevel) {
  std::mt19937 rng(21);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(32 * 4096);
  for (auto& v : x) v = normal(rng);
  for (const GgmlType type : {GgmlType::Q8_0, GgmlType::Q8_1}) {
    const auto reference = quantize(type, x);
    std::vector<uint8_t> ours(reference.size());
    quantize_row_activations(type, x.data(), ours.data(), static_cast<int64_t>(x.size()));
    const size_t block_bytes = ggml_type_traits(type).block_bytes;
    const size_t qs_offset = type == GgmlType::Q8_0 ? 2 : 4;
    int n_different = 0;
    for (size_t b = 0; b < x.size() / 32; ++b) {
      const uint8_t* r = &reference[b * block_bytes];
      const uint8_t* o = &ours[b * block_bytes];
      ASSERT_EQ(std::memcmp(r, o, 2), 0);  // same fp16 d
      int sum = 0;
      for (size_t j = 0; j < 32; ++j) {
        const int qr = static_cast<int8_t>(r[qs_offset + j]);
        const int qo = static_cast<int8_t>(o[qs_offset + j]);
        ASSERT_LE(std::abs(qr - qo), 1);
        n_different += qr != qo;
        sum += qo;
      }
      if (type == GgmlType::Q8_1) {
        uint16_t s;
        std::memcpy(&s, o + 2, 2);
        EXPECT_EQ(s, fp32_to_fp16(stats(&x[32 * b], 32).amax / 127 * static_cast<float>(sum)));
      }
    }
    // Only exact ties and one-ulp multiplier differences can disagree: rare on smooth data.
    EXPECT_LT(n_different, static_cast<int>(x.size() / 1000));
  }
  std::vector<uint8_t> k_ref(292 * 512), k_ours(292 * 512);
  quantize_row(GgmlType::Q8_K, x.data(), k_ref.data(), 256 * 512);
  quantize_row_activations(GgmlType::Q8_K, x.data(), k_ours.data(), 256 * 512);
  EXPECT_EQ(k_ref, k_ours);
  EXPECT_THROW(quantize_row_activations(GgmlType::Q4_0, x.data(), k_ours.data(), 32), Error);
}

TEST(Quantize, RejectsBadLengthsAndTypes) {
  std::vector<float> x(512);
  std::vector<uint8_t> out(4096);
  EXPECT_THROW(quantize_row(GgmlType::Q8_0, x.data(), out.data(), 31), Error);
  EXPECT_THROW(quantize_row(GgmlType::Q6_K, x.data(), out.data(), 32), Error);
  EXPECT_THROW(quantize_row(GgmlType::Q3_K, x.data(), out.data(), 256), Error);
  EXPECT_THROW(quantize_row(GgmlType::I8, x.data(), out.data(), 4), Error);
  try {
    quantize_row(static_cast<GgmlType>(1000), x.data(), out.data(), 4);
    ADD_FAILURE() << "no error for an unknown type";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "cannot quantize to tensor type #1000");
  }
  EXPECT_FALSE(can_quantize(GgmlType::Q2_K));
  EXPECT_TRUE(can_quantize(GgmlType::MXFP4));
}

}  // namespace
}  // namespace moescope
