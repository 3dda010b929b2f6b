#pragma once
// The 16-row transpose of the AVX-512 VNNI strip kernels (avx512_vnni_q4k.cpp,
// avx512_vnni_mxfp4.cpp). Include only inside an AVX-512 target-pragma region; internal linkage,
// so no other file's baseline copy can be merged with this one.
#include <immintrin.h>

namespace moescope::kernels {
namespace {

// z[k] = [row k: 8 dwords | row k+8: 8 dwords] -> out[g] lane i = row i's dword g.
inline void transpose_16x8(const __m512i z[8], __m512i* out) {
  __m512i a[8], b[8];
  for (int k = 0; k < 8; k += 2) {
    a[k] = _mm512_unpacklo_epi32(z[k], z[k + 1]);
    a[k + 1] = _mm512_unpackhi_epi32(z[k], z[k + 1]);
  }
  // b[e] (rows 0-3 in 128-bit lanes 0-1, rows 8-11 in 2-3) and b[4 + e] (rows 4-7, 12-15) hold
  // dword e of each 128-bit lane: lanes 0 and 2 are group e, lanes 1 and 3 group 4 + e.
  for (int h = 0; h < 2; ++h) {
    const __m512i* a4 = a + 4 * h;
    b[4 * h + 0] = _mm512_unpacklo_epi64(a4[0], a4[2]);
    b[4 * h + 1] = _mm512_unpackhi_epi64(a4[0], a4[2]);
    b[4 * h + 2] = _mm512_unpacklo_epi64(a4[1], a4[3]);
    b[4 * h + 3] = _mm512_unpackhi_epi64(a4[1], a4[3]);
  }
  const __m512i low_groups = _mm512_set_epi64(13, 12, 5, 4, 9, 8, 1, 0);
  const __m512i high_groups = _mm512_set_epi64(15, 14, 7, 6, 11, 10, 3, 2);
  for (int e = 0; e < 4; ++e) {
    out[e] = _mm512_permutex2var_epi64(b[e], low_groups, b[4 + e]);
    out[4 + e] = _mm512_permutex2var_epi64(b[e], high_groups, b[4 + e]);
  }
}

}  // namespace
}  // namespace moescope::kernels
