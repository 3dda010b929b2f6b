// Q4_K x Q8_K with AVX-512 VNNI, the batch kernel and the matching one-token kernel.
//
// Batches (prompt processing) transpose 16 weight rows at a time so that each int32 lane of a
// vector is one output row: lane i of a "group" vector holds 4 consecutive 4-bit values of row i.
// One vpdpbusd then multiplies 4 values of 16 rows by the same 4 activations (a dword broadcast),
// so there is no horizontal reduction, and each transposed strip is reused by every token of the
// tile. Unpacking a strip costs about what 6 tokens' dot products cost (256x256: 2 tokens take
// 2.5 us, 256 tokens 80 us); from 2 tokens on it still beats the row kernel (3.7 us).
//
// Per (row, token) and super-block the integer sums are exact whatever their order:
//   S = Σ_s sc_s Σ_{k in s} q_k x_k,   M = Σ_g m_{g/2} bsum_g   (g: the 16 groups of 16 values)
// and the float part is y = fma(-(dmin·dx), M, fma(d·dx, S, y)) over the super-blocks in order,
// in both kernels, so a batch gives the same bits as token-by-token decoding.
#include "engine/tensor/kernels/kernels.h"

#if defined(__x86_64__) || defined(__i386__)

// Every header comes before the target pragma (target_begin.inc): inline functions defined in
// headers must be compiled for baseline x86-64 here too, or the linker could keep this file's copy
// for all callers. The two after it have internal linkage only.
#include <algorithm>
#include <cstring>
#include <vector>

#include "engine/tensor/blocks.h"
#include "engine/tensor/kernels/x86_common.h"

#define MOESCOPE_KERNEL_TARGET "avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma,f16c"
#include "engine/tensor/kernels/target_begin.inc"

#include "engine/tensor/kernels/avx512_transpose.h"
#include "engine/tensor/kernels/strip_driver.h"

namespace moescope::kernels {
namespace {

// Q4_K as strip_driver.h wants it.
struct Q4KStrips {
  using Block = BlockQ4_K;
  using Token = const BlockQ8_K*;
  static constexpr int64_t kBlockValues = kQK_K;
  static constexpr int kTokensPerPass = 4;
  struct Strip;
  static void rows_kernel(const DotTile& t, int64_t r0, int64_t n_rows, int64_t t0, int64_t n_x);
  static void build_strip(const Block* const rows[kStripRows], int64_t b, Strip& s);
  template <int TB>
  static void strip_tokens(const Strip* strips, int64_t nb, const Token x[TB], float* y[TB],
                           __mmask16 valid);
  static void strip_kernel(const DotTile& t);
};

// ---- One token (and batches too small for a strip): a row's super-block unpacked to 4 vectors
// of 64 values, scales as int16 multipliers per value pair, as the other K-quant kernels.

struct RowBlock {
  __m512i q[4];
  __m512i scale[4];
  __m256i mins;  // int16 per 16-value group
  float d, dmin;
};

inline void unpack_row(const BlockQ4_K& b, RowBlock& k) {
  const __m256i low4 = _mm256_set1_epi8(0x0f);
  for (int c = 0; c < 4; ++c) {
    const __m256i bytes = load256(b.qs + 32 * c);
    k.q[c] = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_and_si256(bytes, low4)),
                                _mm256_and_si256(_mm256_srli_epi16(bytes, 4), low4), 1);
  }
  const KScalesMins sm = k_scales_mins(b.scales);
  const __m512i sc16 =
      _mm512_castsi128_si512(_mm_cvtepu8_epi16(_mm_cvtsi64_si128(static_cast<int64_t>(sm.scales))));
  for (int c = 0; c < 4; ++c) {
    // int16 lanes 0-15 take sub-block 2c's scale, lanes 16-31 sub-block 2c+1's.
    const __m512i index = _mm512_inserti64x4(_mm512_set1_epi16(static_cast<int16_t>(2 * c)),
                                             _mm256_set1_epi16(static_cast<int16_t>(2 * c + 1)), 1);
    k.scale[c] = _mm512_permutexvar_epi16(index, sc16);
  }
  const __m128i m16 = _mm_cvtepu8_epi16(_mm_cvtsi64_si128(static_cast<int64_t>(sm.mins)));
  k.mins = _mm256_set_m128i(_mm_unpackhi_epi16(m16, m16), _mm_unpacklo_epi16(m16, m16));
  k.d = _cvtsh_ss(b.d);
  k.dmin = _cvtsh_ss(b.dmin);
}

// [S(row 0..3) | M(row 0..3)]: the lane sums of four rows' S (16 lanes) and M (8 lanes) vectors.
inline void reduce_rows(const __m512i s[4], const __m256i m[4], __m128i& s4, __m128i& m4) {
  __m256i s8[4];
  for (int i = 0; i < 4; ++i) {
    s8[i] = _mm256_add_epi32(_mm512_castsi512_si256(s[i]), _mm512_extracti64x4_epi64(s[i], 1));
  }
  const __m256i s_all =
      _mm256_hadd_epi32(_mm256_hadd_epi32(s8[0], s8[1]), _mm256_hadd_epi32(s8[2], s8[3]));
  const __m256i m_all =
      _mm256_hadd_epi32(_mm256_hadd_epi32(m[0], m[1]), _mm256_hadd_epi32(m[2], m[3]));
  s4 = _mm_add_epi32(_mm256_castsi256_si128(s_all), _mm256_extracti128_si256(s_all, 1));
  m4 = _mm_add_epi32(_mm256_castsi256_si128(m_all), _mm256_extracti128_si256(m_all, 1));
}

// y[t][r] for rows [r0, r0 + n_rows) and tokens [t0, t0 + n_x), four rows at a time so that their
// sums are reduced together and the float part is one 4-lane vector, as the strip's. The integer
// sums are taken row after row over chunks of super-blocks: decode streams the weights, and one
// sequential stream reads faster than four interleaved ones (measured 1.6x on 4096x4096). No
// software prefetch: the hardware prefetcher follows the one stream, and a prefetch 512 bytes
// ahead took 1.6x the CPU time per decode layer on Zen 5 (bench_kernels moe-decode/Q4_K, 1
// thread, bench/kernels/README.md).
void Q4KStrips::rows_kernel(const DotTile& t, int64_t r0, int64_t n_rows, int64_t t0, int64_t n_x) {
  constexpr int64_t kChunk = 16;  // super-blocks per pass: 2304 bytes of each row
  const int64_t nb = t.cols / kQK_K;
  __m512i s[kChunk][4];  // [super-block][row] S lane sums
  __m256i m[kChunk][4];  // [super-block][row] M lane sums
  alignas(16) float d[kChunk][4], dmin[kChunk][4];
  for (int64_t j = t0; j < t0 + n_x; ++j) {
    const auto* x = reinterpret_cast<const BlockQ8_K*>(t.x + j * t.x_stride);
    for (int64_t r = r0; r < r0 + n_rows; r += 4) {
      const int nr = static_cast<int>(std::min<int64_t>(4, r0 + n_rows - r));
      __m128 acc = _mm_setzero_ps();
      for (int64_t b0 = 0; b0 < nb; b0 += kChunk) {
        const int64_t n_chunk = std::min(kChunk, nb - b0);
        for (int i = 0; i < 4; ++i) {  // missing rows repeat the first; their lanes are not stored
          const auto* w =
              reinterpret_cast<const BlockQ4_K*>(t.w + (r + (i < nr ? i : 0)) * t.w_stride) + b0;
          for (int64_t b = 0; b < n_chunk; ++b) {
            const BlockQ8_K& xb = x[b0 + b];
            RowBlock k;
            unpack_row(w[b], k);
            __m512i sumi = _mm512_setzero_si512();
            for (int c = 0; c < 4; ++c) {
              const __m512i xv = _mm512_loadu_si512(xb.qs + 64 * c);
              sumi = _mm512_dpwssd_epi32(sumi, _mm512_maddubs_epi16(k.q[c], xv), k.scale[c]);
            }
            s[b][i] = sumi;
            m[b][i] = _mm256_madd_epi16(load256(xb.bsums), k.mins);
            d[b][i] = k.d;
            dmin[b][i] = k.dmin;
          }
        }
        for (int64_t b = 0; b < n_chunk; ++b) {
          __m128i s4, m4;
          reduce_rows(s[b], m[b], s4, m4);
          const __m128 dx = _mm_set1_ps(x[b0 + b].d);
          acc = _mm_fmadd_ps(_mm_mul_ps(_mm_load_ps(d[b]), dx), _mm_cvtepi32_ps(s4), acc);
          acc = _mm_fnmadd_ps(_mm_mul_ps(_mm_load_ps(dmin[b]), dx), _mm_cvtepi32_ps(m4), acc);
        }
      }
      _mm_mask_storeu_ps(t.y + j * t.y_stride + r, static_cast<__mmask8>((1u << nr) - 1), acc);
    }
  }
}

// ---- Batches: 16 rows transposed per super-block.

struct alignas(64) Q4KStrips::Strip {
  __m512i q[8][8];   // [sub-block][group of 4 values]: lane i = row i's 4 values (u8, 0..15)
  __m512i scale[8];  // [sub-block]: lane i = row i's 6-bit scale (int32)
  __m512i mins[8];   // [sub-block]: lane i = row i's min in both int16 halves
  __m512 d, dmin;    // lane i = row i's super-block scales
};

// Super-block b of rows[0..15] into `s`.
void Q4KStrips::build_strip(const Block* const rows[kStripRows], int64_t b, Strip& s) {
  alignas(64) uint8_t sc[8][kStripRows], mn[8][kStripRows];  // [sub-block][row]
  alignas(64) float d[kStripRows], dmin[kStripRows];
  for (int i = 0; i < kStripRows; ++i) {
    const BlockQ4_K& blk = rows[i][b];
    const KScalesMins sm = k_scales_mins(blk.scales);
    for (int j = 0; j < 8; ++j) {
      sc[j][i] = static_cast<uint8_t>(sm.scales >> (8 * j));
      mn[j][i] = static_cast<uint8_t>(sm.mins >> (8 * j));
    }
    d[i] = _cvtsh_ss(blk.d);
    dmin[i] = _cvtsh_ss(blk.dmin);
  }
  for (int j = 0; j < 8; ++j) {
    s.scale[j] = _mm512_cvtepu8_epi32(_mm_load_si128(reinterpret_cast<const __m128i*>(sc[j])));
    const __m512i m = _mm512_cvtepu8_epi32(_mm_load_si128(reinterpret_cast<const __m128i*>(mn[j])));
    s.mins[j] = _mm512_or_si512(m, _mm512_slli_epi32(m, 16));
  }
  s.d = _mm512_load_ps(d);
  s.dmin = _mm512_load_ps(dmin);
  const __m512i low4 = _mm512_set1_epi8(0x0f);
  for (int c = 0; c < 4; ++c) {
    // Bytes 32c..32c+31: low nibbles are sub-block 2c, high nibbles sub-block 2c + 1.
    __m512i lo[8], hi[8];
    for (int k = 0; k < 8; ++k) {
      const __m512i z = _mm512_inserti64x4(_mm512_castsi256_si512(load256(rows[k][b].qs + 32 * c)),
                                           load256(rows[k + 8][b].qs + 32 * c), 1);
      lo[k] = _mm512_and_si512(z, low4);
      hi[k] = _mm512_and_si512(_mm512_srli_epi16(z, 4), low4);
    }
    transpose_16x8(lo, s.q[2 * c]);
    transpose_16x8(hi, s.q[2 * c + 1]);
  }
}

// y for the strip's rows and TB tokens starting at x_rows[0].
template <int TB>
void Q4KStrips::strip_tokens(const Strip* strips, int64_t nb, const Token x[TB], float* y[TB],
                             __mmask16 valid) {
  __m512 acc[TB];
  for (auto& a : acc) a = _mm512_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const Strip& st = strips[b];
    __m512i sum[TB], msum[TB];
    for (int j = 0; j < TB; ++j) sum[j] = msum[j] = _mm512_setzero_si512();
    for (int sb = 0; sb < 8; ++sb) {
      __m512i part[TB];
      for (int j = 0; j < TB; ++j) part[j] = _mm512_setzero_si512();
      for (int g = 0; g < 8; ++g) {
        const __m512i w = _mm512_load_si512(&st.q[sb][g]);
        for (int j = 0; j < TB; ++j) {
          part[j] = _mm512_dpbusd_epi32(part[j], w, broadcast32(x[j][b].qs + 32 * sb + 4 * g));
        }
      }
      for (int j = 0; j < TB; ++j) {
        sum[j] = _mm512_add_epi32(sum[j], _mm512_mullo_epi32(part[j], st.scale[sb]));
        // bsums 2sb and 2sb+1 (one dword) times the sub-block's min in both halves.
        msum[j] = _mm512_dpwssd_epi32(msum[j], st.mins[sb], broadcast32(x[j][b].bsums + 2 * sb));
      }
    }
    for (int j = 0; j < TB; ++j) {
      const __m512 dx = _mm512_set1_ps(x[j][b].d);
      acc[j] = _mm512_fmadd_ps(_mm512_mul_ps(st.d, dx), _mm512_cvtepi32_ps(sum[j]), acc[j]);
      acc[j] = _mm512_fnmadd_ps(_mm512_mul_ps(st.dmin, dx), _mm512_cvtepi32_ps(msum[j]), acc[j]);
    }
  }
  for (int j = 0; j < TB; ++j) _mm512_mask_storeu_ps(y[j], valid, acc[j]);
}

void Q4KStrips::strip_kernel(const DotTile& t) {
  drive_strips<Q4KStrips>(
      t, [&](int64_t j) { return reinterpret_cast<const BlockQ8_K*>(t.x + j * t.x_stride); });
}

}  // namespace

#include "engine/tensor/kernels/target_end.inc"

// Baseline code again: callers need no target of their own to ask for the kernel.
DotTileFn avx512_vnni_q4_k_dot_tile() {
  return strip_dot_tile<Q4KStrips>;
}

}  // namespace moescope::kernels

#endif
