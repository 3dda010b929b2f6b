#pragma once
// Tiling shared by the SIMD kernel files. Included inside their target-pragma regions, so the
// template is instantiated with each file's instruction set.
#include <cstdint>
#include <cstring>

#include "engine/tensor/kernels/kernels.h"

namespace moescope::kernels {

// f.template operator()<N>() with N == n for 1 <= n <= kMax: a pass's token count as a
// compile-time constant, so that its per-token accumulators are arrays of known size.
template <int kMax, class F>
inline void with_token_count(int n, F&& f) {
  if constexpr (kMax > 1) {
    if (n < kMax) return with_token_count<kMax - 1>(n, f);
  }
  f.template operator()<kMax>();
}

// Walks a DotTile in RB-row x TB-token micro-tiles, finishing edges with smaller ones: the rows
// past the last RB-row block one at a time, the tokens past the last TB-token pass one by one or,
// with kRestTogether, in one pass (a MoE expert in a prompt often gets only a few tokens — 64
// experts top-8, 32 tokens: about four each — and a one-token pass unpacks the row's weights for
// one token). K::run<RB, TB>(tile, first_row, first_token) computes one micro-tile; the
// arithmetic for a (row, token) pair must not depend on RB/TB so that results do not depend on
// tiling.
template <class K, int RB, int TB, bool kRestTogether = false>
inline void drive_tile(const DotTile& t) {
  const auto row_block = [&]<int R>(int64_t r) {
    int64_t j = 0;
    for (; j + TB <= t.n_x; j += TB) K::template run<R, TB>(t, r, j);
    if constexpr (kRestTogether && TB > 1) {
      if (j < t.n_x) {
        with_token_count<TB - 1>(static_cast<int>(t.n_x - j),
                                 [&]<int N>() { K::template run<R, N>(t, r, j); });
      }
    } else {
      for (; j < t.n_x; ++j) K::template run<R, 1>(t, r, j);
    }
  };
  int64_t r = 0;
  for (; r + RB <= t.n_rows; r += RB) row_block.template operator()<RB>(r);
  for (; r < t.n_rows; ++r) row_block.template operator()<1>(r);
}

// The 8 six-bit scales and 8 mins of a Q4_K/Q5_K block (12 packed bytes), as bytes of two
// 64-bit words (scale or min j in byte j), computed with 32-bit word operations: for j < 4,
// sc_j = s[j] & 63 and m_j = s[j+4] & 63; for j >= 4 the low four bits come from s[j+4] (sc: low
// nibble, m: high nibble) and the top two from bits 6-7 of s[j-4] (sc) or s[j] (m). Returned in
// registers: reading bytes back from memory just written would stall on store forwarding.
struct KScalesMins {
  uint64_t scales;
  uint64_t mins;
};

inline KScalesMins k_scales_mins(const uint8_t* packed) {
  uint32_t w[3];
  std::memcpy(w, packed, 12);
  constexpr uint32_t kLow6 = 0x3f3f3f3f, kLow4 = 0x0f0f0f0f, kTop2 = 0x03030303;
  const uint32_t sc_lo = w[0] & kLow6;
  const uint32_t sc_hi = (w[2] & kLow4) | (((w[0] >> 6) & kTop2) << 4);
  const uint32_t m_lo = w[1] & kLow6;
  const uint32_t m_hi = ((w[2] >> 4) & kLow4) | (((w[1] >> 6) & kTop2) << 4);
  return {sc_lo | (static_cast<uint64_t>(sc_hi) << 32), m_lo | (static_cast<uint64_t>(m_hi) << 32)};
}

}  // namespace moescope::kernels
