// MXFP4 x Q8_0 with AVX-512 VNNI, the batch kernel and the matching one-token kernel.
//
// Batches transpose 16 weight rows per 32-value block so that each int32 lane is one output row
// (see avx512_vnni_q4k.cpp): one vpdpbusd multiplies 4 values of 16 rows by 4 activations of one
// token, broadcast. vpdpbusd wants its first operand unsigned, so the activations go in offset by
// 128 (x ^ 0x80, converted once per tile) and the row's 128 Σw is subtracted.
//
// Per (row, token) and block the integer sum S = Σ w x (w: the doubled E2M1 values) is exact;
// the float part is y = fma(d_w·d_x, S, y) over the blocks in order in both kernels, so a batch
// gives the same bits as token-by-token decoding.
#include "engine/tensor/kernels/kernels.h"

#if defined(__x86_64__) || defined(__i386__)

// Every header comes before the target pragma (target_begin.inc): inline functions defined in
// headers must be compiled for baseline x86-64 here too, or the linker could keep this file's copy
// for all callers. The two after it have internal linkage only.
#include <algorithm>
#include <cstring>
#include <vector>

#include "engine/tensor/blocks.h"

#define MOESCOPE_KERNEL_TARGET "avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma,f16c"
#include "engine/tensor/kernels/target_begin.inc"

#include "engine/tensor/kernels/avx512_transpose.h"
#include "engine/tensor/kernels/strip_driver.h"

namespace moescope::kernels {
namespace {

// The 32 values of a block as int8 (doubled E2M1: -12..12); value j < 16 is the low nibble of
// byte j, value j + 16 its high nibble.
inline __m256i block_values(const BlockMXFP4& b) {
  const __m128i table = _mm_loadu_si128(reinterpret_cast<const __m128i*>(kMxfp4Values));
  const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b.qs));
  const __m256i both = _mm256_set_m128i(_mm_srli_epi16(bytes, 4), bytes);
  return _mm256_shuffle_epi8(_mm256_set_m128i(table, table),
                             _mm256_and_si256(both, _mm256_set1_epi8(0x0f)));
}

// Σ w x per dword lane of one block (8 lanes), |w| against x with w's sign.
inline __m256i block_dot(const BlockMXFP4& w, const BlockQ8_0& x) {
  const __m256i v = block_values(w);
  return _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_abs_epi8(v),
                             _mm256_sign_epi8(load256(x.qs), v));
}

// The lane sums of four 8-lane vectors.
inline __m128i reduce4(const __m256i v[4]) {
  const __m256i h = _mm256_hadd_epi32(_mm256_hadd_epi32(v[0], v[1]), _mm256_hadd_epi32(v[2], v[3]));
  return _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
}

// Block sums of four rows, two blocks per vector (lanes 0-7 block b, 8-15 block b + 1) ->
// [S_b of rows 0-3] and [S_b+1 of rows 0-3].
inline void reduce_pairs(const __m512i z[4], __m128i& even, __m128i& odd) {
  const __m512i a =
      _mm512_add_epi32(_mm512_unpacklo_epi32(z[0], z[1]), _mm512_unpackhi_epi32(z[0], z[1]));
  const __m512i c =
      _mm512_add_epi32(_mm512_unpacklo_epi32(z[2], z[3]), _mm512_unpackhi_epi32(z[2], z[3]));
  // Per 128-bit lane: [row 0, row 1, row 2, row 3] sums of that lane's 4 dwords.
  const __m512i e = _mm512_add_epi32(_mm512_unpacklo_epi64(a, c), _mm512_unpackhi_epi64(a, c));
  const __m512i f = _mm512_add_epi32(e, _mm512_shuffle_i32x4(e, e, _MM_SHUFFLE(2, 3, 0, 1)));
  even = _mm512_castsi512_si128(f);
  odd = _mm512_extracti32x4_epi32(f, 2);
}

// e8m0_to_fp32_half of 8 exponents at once (the scalar form costs a shift, a compare and a
// conditional move each, which showed as the hottest part of decode).
inline __m256 e8m0_half_x8(__m256i e) {
  const __m256i subnormal = _mm256_sllv_epi32(_mm256_set1_epi32(0x00200000), e);
  const __m256i normal = _mm256_slli_epi32(_mm256_sub_epi32(e, _mm256_set1_epi32(1)), 23);
  const __mmask8 small = _mm256_cmplt_epu32_mask(e, _mm256_set1_epi32(2));
  return _mm256_castsi256_ps(_mm256_mask_blend_epi32(small, normal, subnormal));
}

// MXFP4 as strip_driver.h wants it.
struct Mxfp4Strips {
  // Activations of one token as the strip kernel reads them.
  struct TokenBlocks {
    const uint8_t* q;  // [nb][32] x ^ 0x80
    const float* d;    // [nb]
  };
  using Block = BlockMXFP4;
  using Token = TokenBlocks;
  static constexpr int64_t kBlockValues = kQK_MXFP4;
  static constexpr int kTokensPerPass = 8;
  struct Strip;
  static void rows_kernel(const DotTile& t, int64_t r0, int64_t n_rows, int64_t t0, int64_t n_x);
  static void build_strip(const Block* const rows[kStripRows], int64_t b, Strip& s);
  template <int TB>
  static void strip_tokens(const Strip* strips, int64_t nb, const Token x[TB], float* y[TB],
                           __mmask16 valid);
  static void strip_kernel(const DotTile& t);
};

// ---- One token: four rows at a time, two blocks per vector, their block sums reduced together
// and the float part one 4-lane vector, as the strip's.
void Mxfp4Strips::rows_kernel(const DotTile& t, int64_t r0, int64_t n_rows, int64_t t0,
                              int64_t n_x) {
  const int64_t nb = t.cols / kQK_MXFP4;
  for (int64_t j = t0; j < t0 + n_x; ++j) {
    const auto* x = reinterpret_cast<const BlockQ8_0*>(t.x + j * t.x_stride);
    for (int64_t r = r0; r < r0 + n_rows; r += 4) {
      const int nr = static_cast<int>(std::min<int64_t>(4, r0 + n_rows - r));
      const BlockMXFP4* w[4];
      for (int i = 0; i < 4; ++i) {  // missing rows repeat the first; their lanes are not stored
        w[i] = reinterpret_cast<const BlockMXFP4*>(t.w + (r + (i < nr ? i : 0)) * t.w_stride);
      }
      __m128 acc = _mm_setzero_ps();
      int64_t b = 0;
      for (; b + 2 <= nb; b += 2) {
        const __m512i xv =
            _mm512_inserti64x4(_mm512_castsi256_si512(load256(x[b].qs)), load256(x[b + 1].qs), 1);
        __m512i z[4];
        for (int i = 0; i < 4; ++i) {
          _mm_prefetch(reinterpret_cast<const char*>(&w[i][b]) + 512, _MM_HINT_T0);
          const __m512i v = _mm512_inserti64x4(_mm512_castsi256_si512(block_values(w[i][b])),
                                               block_values(w[i][b + 1]), 1);
          const __m512i sx =
              _mm512_mask_sub_epi8(xv, _mm512_movepi8_mask(v), _mm512_setzero_si512(), xv);
          z[i] = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_abs_epi8(v), sx);
        }
        __m128i even, odd;
        reduce_pairs(z, even, odd);
        const __m256 dw = e8m0_half_x8(_mm256_setr_epi32(w[0][b].e, w[1][b].e, w[2][b].e, w[3][b].e,
                                                         w[0][b + 1].e, w[1][b + 1].e,
                                                         w[2][b + 1].e, w[3][b + 1].e));
        const __m128 d0 = _mm256_castps256_ps128(dw);
        const __m128 d1 = _mm256_extractf128_ps(dw, 1);
        acc = _mm_fmadd_ps(_mm_mul_ps(d0, _mm_set1_ps(_cvtsh_ss(x[b].d))), _mm_cvtepi32_ps(even),
                           acc);
        acc = _mm_fmadd_ps(_mm_mul_ps(d1, _mm_set1_ps(_cvtsh_ss(x[b + 1].d))), _mm_cvtepi32_ps(odd),
                           acc);
      }
      if (b < nb) {  // odd last block
        __m256i z[4];
        for (int i = 0; i < 4; ++i) z[i] = block_dot(w[i][b], x[b]);
        const __m128 d0 = _mm_setr_ps(e8m0_to_fp32_half(w[0][b].e), e8m0_to_fp32_half(w[1][b].e),
                                      e8m0_to_fp32_half(w[2][b].e), e8m0_to_fp32_half(w[3][b].e));
        acc = _mm_fmadd_ps(_mm_mul_ps(d0, _mm_set1_ps(_cvtsh_ss(x[b].d))),
                           _mm_cvtepi32_ps(reduce4(z)), acc);
      }
      _mm_mask_storeu_ps(t.y + j * t.y_stride + r, static_cast<__mmask8>((1u << nr) - 1), acc);
    }
  }
}

// ---- Batches: 16 rows transposed per block.

struct alignas(64) Mxfp4Strips::Strip {
  __m512i q[8];  // [group of 4 values]: lane i = row i's 4 values (int8)
  __m512i bias;  // lane i = 128 Σ_k w_k of row i
  __m512 d;      // lane i = row i's block scale
};

void Mxfp4Strips::build_strip(const Block* const rows[kStripRows], int64_t b, Strip& s) {
  alignas(64) float d[kStripRows];
  __m512i z[8];
  for (int k = 0; k < 8; ++k) {
    z[k] = _mm512_inserti64x4(_mm512_castsi256_si512(block_values(rows[k][b])),
                              block_values(rows[k + 8][b]), 1);
  }
  for (int i = 0; i < kStripRows; ++i) d[i] = e8m0_to_fp32_half(rows[i][b].e);
  transpose_16x8(z, s.q);
  __m512i sum = _mm512_setzero_si512();
  const __m512i ones = _mm512_set1_epi8(1);
  for (int g = 0; g < 8; ++g) sum = _mm512_dpbusd_epi32(sum, ones, s.q[g]);
  s.bias = _mm512_slli_epi32(sum, 7);
  s.d = _mm512_load_ps(d);
}

template <int TB>
void Mxfp4Strips::strip_tokens(const Strip* strips, int64_t nb, const Token x[TB], float* y[TB],
                               __mmask16 valid) {
  __m512 acc[TB];
  for (auto& a : acc) a = _mm512_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const Strip& st = strips[b];
    __m512i sum[TB];
    for (int j = 0; j < TB; ++j) sum[j] = _mm512_setzero_si512();
    for (int g = 0; g < 8; ++g) {
      const __m512i w = _mm512_load_si512(&st.q[g]);
      for (int j = 0; j < TB; ++j) {
        sum[j] = _mm512_dpbusd_epi32(sum[j], broadcast32(x[j].q + 32 * b + 4 * g), w);
      }
    }
    for (int j = 0; j < TB; ++j) {
      const __m512i exact = _mm512_sub_epi32(sum[j], st.bias);
      acc[j] = _mm512_fmadd_ps(_mm512_mul_ps(st.d, _mm512_set1_ps(x[j].d[b])),
                               _mm512_cvtepi32_ps(exact), acc[j]);
    }
  }
  for (int j = 0; j < TB; ++j) _mm512_mask_storeu_ps(y[j], valid, acc[j]);
}

void Mxfp4Strips::strip_kernel(const DotTile& t) {
  const int64_t nb = t.cols / kBlockValues;
  thread_local std::vector<uint8_t> xq;  // [n_x][nb][32] activations offset by 128
  thread_local std::vector<float> dx;    // [n_x][nb]
  xq.resize(static_cast<size_t>(t.n_x * nb * 32));
  dx.resize(static_cast<size_t>(t.n_x * nb));
  const __m256i offset = _mm256_set1_epi8(static_cast<char>(0x80));
  for (int64_t j = 0; j < t.n_x; ++j) {
    const auto* x = reinterpret_cast<const BlockQ8_0*>(t.x + j * t.x_stride);
    for (int64_t b = 0; b < nb; ++b) {
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(&xq[(j * nb + b) * 32]),
                          _mm256_xor_si256(load256(x[b].qs), offset));
      dx[j * nb + b] = _cvtsh_ss(x[b].d);
    }
  }
  drive_strips<Mxfp4Strips>(t, [&](int64_t j) {
    return TokenBlocks{&xq[j * nb * 32], &dx[j * nb]};
  });
}

}  // namespace

#include "engine/tensor/kernels/target_end.inc"

// Baseline code again: callers need no target of their own to ask for the kernel.
DotTileFn avx512_vnni_mxfp4_dot_tile() {
  return strip_dot_tile<Mxfp4Strips>;
}

}  // namespace moescope::kernels

#endif
