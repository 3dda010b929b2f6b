#pragma once
// The tile driver of the AVX-512 VNNI strip kernels (avx512_vnni_q4k.cpp, avx512_vnni_mxfp4.cpp).
// A strip is one block of 16 weight rows transposed so that each int32 lane is one output row; it
// is built once and reused by every token of the tile, kTokensPerPass tokens per pass. Include
// only inside an AVX-512 target-pragma region, after the headers below (target_begin.inc);
// internal linkage, as avx512_transpose.h.
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "engine/tensor/kernels/kernels.h"
#include "engine/tensor/kernels/x86_common.h"

namespace moescope::kernels {
namespace {

constexpr int kStripRows = 16;  // one int32 lane per row
// Below this many tokens a strip's unpacking costs more than the row-by-row kernel.
constexpr int64_t kMinStripTokens = 2;

inline __m256i load256(const void* p) {
  return _mm256_loadu_si256(static_cast<const __m256i*>(p));
}

inline __m512i broadcast32(const void* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return _mm512_set1_epi32(v);
}

// A weight format's strip kernel, K:
//   Block, kBlockValues   the weight block and its number of values
//   Strip                 one block of kStripRows rows, transposed
//   Token                 one token's activations as strip_tokens reads them
//   kTokensPerPass        tokens per pass over a row's strips
//   build_strip(rows, b, strip)              block b of rows[0..kStripRows) into strip
//   strip_tokens<TB>(strips, nb, x, y, valid)  y[j][lane] for TB tokens x[j], lanes in valid
//   strip_kernel(tile), rows_kernel(tile, r0, n_rows, t0, n_x)  the batch and one-token kernels
// token_at(j) gives token j's Token.
template <class K, class TokenAt>
void drive_strips(const DotTile& t, TokenAt&& token_at) {
  const int64_t nb = t.cols / K::kBlockValues;
  thread_local std::vector<typename K::Strip> strips;  // [nb]
  strips.resize(static_cast<size_t>(nb));
  for (int64_t r0 = 0; r0 < t.n_rows; r0 += kStripRows) {
    const int64_t n_rows = std::min<int64_t>(kStripRows, t.n_rows - r0);
    const typename K::Block* rows[kStripRows];
    for (int i = 0; i < kStripRows; ++i) {  // missing rows repeat the first; lanes not stored
      rows[i] = reinterpret_cast<const typename K::Block*>(t.w + (r0 + (i < n_rows ? i : 0)) *
                                                                     t.w_stride);
    }
    for (int64_t b = 0; b < nb; ++b) K::build_strip(rows, b, strips[b]);
    const auto valid = static_cast<__mmask16>((1u << n_rows) - 1);
    constexpr int kTB = K::kTokensPerPass;
    typename K::Token x[kTB];
    float* y[kTB];
    for (int64_t j = 0; j < t.n_x; j += kTB) {
      const int n = static_cast<int>(std::min<int64_t>(kTB, t.n_x - j));
      for (int k = 0; k < n; ++k) {
        x[k] = token_at(j + k);
        y[k] = t.y + (j + k) * t.y_stride + r0;
      }
      with_token_count<kTB>(
          n, [&]<int TB>() { K::template strip_tokens<TB>(strips.data(), nb, x, y, valid); });
    }
  }
}

// The DotTileFn of format K: strips from kMinStripTokens tokens on, rows below.
template <class K>
void strip_dot_tile(const DotTile& t) {
  if (t.n_x >= kMinStripTokens) {
    K::strip_kernel(t);
  } else {
    K::rows_kernel(t, 0, t.n_rows, 0, t.n_x);
  }
}

}  // namespace
}  // namespace moescope::kernels
