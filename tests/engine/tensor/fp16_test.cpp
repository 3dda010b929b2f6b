// fp16/bf16 conversions against independent references: the compiler's _Float16 (libgcc's
// correctly rounded software conversions) and an arithmetic nearest-value search for bf16.
#include "engine/tensor/fp16.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <random>

#include "tests/engine/tensor/spec_decoder.h"

namespace moescope {
namespace {

uint16_t bits_of(_Float16 h) {
  return std::bit_cast<uint16_t>(h);
}
_Float16 half_of(uint16_t bits) {
  return std::bit_cast<_Float16>(bits);
}
uint32_t bits_of(float f) {
  return std::bit_cast<uint32_t>(f);
}

bool is_half_nan(uint16_t h) {
  return (h & 0x7c00) == 0x7c00 && (h & 0x3ff) != 0;
}

TEST(Fp16, EveryHalfWidensExactly) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const auto bits = static_cast<uint16_t>(h);
    const float ours = fp16_to_fp32(bits);
    const float compiler = static_cast<float>(half_of(bits));
    const float spec = spec::half_value(bits);
    if (is_half_nan(bits)) {
      ASSERT_TRUE(std::isnan(ours)) << h;
      ASSERT_EQ(std::signbit(ours), (h & 0x8000) != 0) << h;
      // Payload kept in the top mantissa bits, quiet bit set.
      ASSERT_EQ(bits_of(ours) & 0x003fe000u, (h & 0x1ffu) << 13) << h;
      ASSERT_NE(bits_of(ours) & 0x00400000u, 0u) << h;
      continue;
    }
    ASSERT_EQ(bits_of(ours), bits_of(compiler)) << std::hex << h;
    ASSERT_EQ(bits_of(ours), bits_of(spec)) << std::hex << h;
  }
}

TEST(Fp16, EveryHalfRoundTrips) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const auto bits = static_cast<uint16_t>(h);
    if (is_half_nan(bits)) continue;
    ASSERT_EQ(fp32_to_fp16(fp16_to_fp32(bits)), bits) << std::hex << h;
  }
}

// Midpoints between neighbouring halves (ties go to the even one) and the floats just either side
// of each midpoint: the hardest cases for round-to-nearest-even, across subnormals, normals and
// the overflow threshold.
TEST(Fp16, NarrowingRoundsToNearestEvenAtEveryMidpoint) {
  for (uint32_t h = 0; h < 0x7c00; ++h) {
    for (const uint32_t sign : {0u, 0x8000u}) {
      const double lo = fp16_to_fp32(static_cast<uint16_t>(h));
      const double hi = h + 1 == 0x7c00 ? 65536.0 : fp16_to_fp32(static_cast<uint16_t>(h + 1));
      const float mid = static_cast<float>((lo + hi) / 2);  // exact: halves have 11 bits
      ASSERT_EQ(static_cast<double>(mid), (lo + hi) / 2);
      for (const float f : {mid, std::nextafter(mid, 0.0f), std::nextafter(mid, 1e30f)}) {
        const float v = sign ? -f : f;
        ASSERT_EQ(fp32_to_fp16(v), bits_of(static_cast<_Float16>(v)))
            << std::hex << h << " " << bits_of(v);
      }
    }
  }
}

TEST(Fp16, NarrowingMatchesCompilerOnRandomFloats) {
  std::mt19937 rng(12345);
  std::uniform_int_distribution<uint32_t> any_bits;
  for (int i = 0; i < 2'000'000; ++i) {
    const uint32_t u = any_bits(rng);
    const float f = std::bit_cast<float>(u);
    const uint16_t ours = fp32_to_fp16(f);
    if (std::isnan(f)) {
      ASSERT_TRUE(is_half_nan(ours));
      ASSERT_EQ(ours >> 15, u >> 31);
      ASSERT_NE(ours & 0x200, 0);  // quiet
      continue;
    }
    ASSERT_EQ(ours, bits_of(static_cast<_Float16>(f))) << std::hex << u;
  }
}

TEST(Fp16, SpecialValues) {
  EXPECT_EQ(fp32_to_fp16(0.0f), 0x0000);
  EXPECT_EQ(fp32_to_fp16(-0.0f), 0x8000);
  EXPECT_EQ(fp32_to_fp16(1.0f), 0x3c00);
  EXPECT_EQ(fp32_to_fp16(65504.0f), 0x7bff);
  EXPECT_EQ(fp32_to_fp16(65519.996f), 0x7bff);
  EXPECT_EQ(fp32_to_fp16(65520.0f), 0x7c00);  // tie between 65504 and "65536": even = inf
  EXPECT_EQ(fp32_to_fp16(-INFINITY), 0xfc00);
  EXPECT_EQ(fp32_to_fp16(0x1p-24f), 0x0001);  // smallest subnormal
  EXPECT_EQ(fp32_to_fp16(0x1p-25f), 0x0000);  // tie with zero: even
  EXPECT_EQ(fp32_to_fp16(0x1.000002p-25f), 0x0001);
  EXPECT_EQ(fp32_to_fp16(0x1.8p-24f), 0x0002);    // 1.5 units: tie to even 2
  EXPECT_EQ(fp32_to_fp16(0x1.ff8p-15f), 0x03ff);  // largest subnormal
  EXPECT_EQ(fp32_to_fp16(0x1.ffap-15f), 0x03ff);
  EXPECT_EQ(fp32_to_fp16(0x1.ffcp-15f), 0x0400);  // tie: rounds up into the smallest normal
  EXPECT_EQ(fp16_to_fp32(0x0001), 0x1p-24f);
  EXPECT_EQ(fp16_to_fp32(0xfbff), -65504.0f);
  EXPECT_EQ(fp32_to_fp16(std::bit_cast<float>(0x7f800001u)), 0x7e00);  // sNaN becomes quiet
}

// bf16 reference: of the two bf16 values around f (truncate, truncate + 1 ulp), the nearer in
// exact double arithmetic, the even one on a tie.
uint16_t reference_bf16(float f) {
  const uint32_t u = bits_of(f);
  const auto down = static_cast<uint16_t>(u >> 16);
  if ((u & 0xffff) == 0) return down;
  const auto up = static_cast<uint16_t>(down + 1);
  const double d_down = std::fabs(static_cast<double>(f) - spec::bf16_value(down));
  const double above = (up & 0x7f80) == 0x7f80 ? std::ldexp(std::copysign(1.0, f), 128)
                                               : static_cast<double>(spec::bf16_value(up));
  const double d_up = std::fabs(above - static_cast<double>(f));
  if (d_down < d_up) return down;
  if (d_up < d_down) return up;
  return (down & 1) ? up : down;
}

TEST(Bf16, NarrowingMatchesNearestEvenReference) {
  std::mt19937 rng(777);
  std::uniform_int_distribution<uint32_t> any_bits;
  for (int i = 0; i < 2'000'000; ++i) {
    // Half the samples sit exactly on a tie or next to one.
    uint32_t u = any_bits(rng);
    if (i % 2) u = (u & 0xffff0000u) | (i % 4 == 1 ? 0x8000u : 0x8001u);
    const float f = std::bit_cast<float>(u);
    const uint16_t ours = fp32_to_bf16(f);
    if (std::isnan(f)) {
      ASSERT_EQ(ours, static_cast<uint16_t>((u >> 16) | 0x40)) << std::hex << u;
      continue;
    }
    ASSERT_EQ(ours, reference_bf16(f)) << std::hex << u;
    ASSERT_EQ(bits_of(bf16_to_fp32(ours)), bits_of(spec::bf16_value(ours)));
  }
}

TEST(Bf16, SpecialValues) {
  EXPECT_EQ(fp32_to_bf16(1.0f), 0x3f80);
  EXPECT_EQ(fp32_to_bf16(std::bit_cast<float>(0x3f808000u)), 0x3f80);  // tie, even stays
  EXPECT_EQ(fp32_to_bf16(std::bit_cast<float>(0x3f818000u)), 0x3f82);  // tie, odd rounds up
  EXPECT_EQ(fp32_to_bf16(std::bit_cast<float>(0x7f7fffffu)), 0x7f80);  // max float -> inf
  EXPECT_EQ(fp32_to_bf16(std::bit_cast<float>(0x00000001u)), 0x0000);  // subnormal kept/rounded
  EXPECT_EQ(fp32_to_bf16(std::bit_cast<float>(0x00018000u)), 0x0002);
  EXPECT_EQ(fp32_to_bf16(std::bit_cast<float>(0xff800001u)), 0xffc0);  // NaN quieted
  EXPECT_EQ(bits_of(bf16_to_fp32(0xc040)), 0xc0400000u);
}

}  // namespace
}  // namespace moescope
