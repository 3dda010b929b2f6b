// AVX-512 VNNI kernels for the integer formats: two 32-value blocks per 512-bit vector, int8 dot
// products with vpdpbusd (u8 x s8, 4 products per int32 lane) and, for the K-quants' per-sub-block
// scales, maddubs followed by vpdpwssd. Compiled for its target (pragma below) and only called when
// cpu_features reported AVX-512 with VNNI.
//
// Signed weights use |w| as the unsigned operand and flip the activation's sign where w < 0. Each
// block's int32 sums are scaled in float (d_w * d_x per lane) and accumulated with one FMA per
// vector; an odd last block goes through the 256-bit form. A (row, token) pair sees the same
// operations whatever the tile shape.
#include "engine/tensor/kernels/kernels.h"

#if defined(__x86_64__) || defined(__i386__)

// Every header comes before the target pragma (target_begin.inc): inline functions defined in
// headers must be compiled for baseline x86-64 here too, or the linker could keep this file's copy
// for all callers.
#include <cstring>
#include <type_traits>

#include "engine/tensor/blocks.h"
#include "engine/tensor/fp16.h"
#include "engine/tensor/kernels/x86_common.h"

#define MOESCOPE_KERNEL_TARGET "avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma,f16c"
#include "engine/tensor/kernels/target_begin.inc"

namespace moescope::kernels {
namespace {

inline float half(uint16_t h) {
  return _cvtsh_ss(h);
}

inline __m256i load256(const void* p) {
  return _mm256_loadu_si256(static_cast<const __m256i*>(p));
}

inline __m512i join(__m256i lo, __m256i hi) {
  return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
}

// Two fp16 block scales -> 8 lanes of the first, 8 of the second: one conversion and one
// permute instead of two scalar conversions, broadcasts and an insert.
inline __m512 fp16_pair(uint16_t d0, uint16_t d1) {
  const uint32_t packed = static_cast<uint32_t>(d0) | (static_cast<uint32_t>(d1) << 16);
  const __m128 two = _mm_cvtph_ps(_mm_cvtsi32_si128(static_cast<int>(packed)));
  const __m512i index = _mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0);
  return _mm512_permutexvar_ps(index, _mm512_castps128_ps512(two));
}

// Decode streams weight rows from memory; a software prefetch a few cache lines ahead keeps
// more loads in flight than the hardware prefetcher alone (measured: +30-60% on 4096x4096).
inline void prefetch_ahead(const void* p) {
  _mm_prefetch(static_cast<const char*>(p) + 512, _MM_HINT_T0);
}

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// 16 packed nibbles -> 32 bytes: value j the low nibble of byte j, value j+16 the high one.
inline __m256i nibbles_32(const uint8_t* qs) {
  const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  const __m256i both = _mm256_set_m128i(_mm_srli_epi16(b, 4), b);
  return _mm256_and_si256(both, _mm256_set1_epi8(0x0f));
}

// Bit j of a little-endian u32 -> byte j = 0xff when set.
inline __m256i bits_to_bytes(const uint8_t* p) {
  uint32_t bits;
  std::memcpy(&bits, p, 4);
  return _mm256_movm_epi8(bits);
}

// ---- 32-value blocks against Q8_0 (signed weights) or Q8_1 (unsigned weights and a min).

struct Q8_0Format {
  using Block = BlockQ8_0;
  static __m256i values(const Block& b) { return load256(b.qs); }
  static __m512 pair_scale(const Block& a, const Block& b) { return fp16_pair(a.d, b.d); }
  static float scale(const Block& b) { return half(b.d); }
};

struct Q4_0Format {
  using Block = BlockQ4_0;
  static __m256i values(const Block& b) {
    return _mm256_sub_epi8(nibbles_32(b.qs), _mm256_set1_epi8(8));
  }
  static __m512 pair_scale(const Block& a, const Block& b) { return fp16_pair(a.d, b.d); }
  static float scale(const Block& b) { return half(b.d); }
};

struct Q5_0Format {
  using Block = BlockQ5_0;
  // q - 16 as int8: with the 5th bit clear, the nibble minus 16 is the nibble with 0xf0 set.
  static __m256i values(const Block& b) {
    const __m256i high_clear = _mm256_andnot_si256(bits_to_bytes(b.qh), _mm256_set1_epi8(-16));
    return _mm256_or_si256(nibbles_32(b.qs), high_clear);
  }
  static __m512 pair_scale(const Block& a, const Block& b) { return fp16_pair(a.d, b.d); }
  static float scale(const Block& b) { return half(b.d); }
};

struct Q4_1Format {
  using Block = BlockQ4_1;
  static __m256i values(const Block& b) { return nibbles_32(b.qs); }
  static __m512 pair_scale(const Block& a, const Block& b) { return fp16_pair(a.d, b.d); }
  static float scale(const Block& b) { return half(b.d); }
  static float min(const Block& b) { return half(b.m); }
};

struct Q5_1Format {
  using Block = BlockQ5_1;
  static __m256i values(const Block& b) {
    const __m256i fifth = _mm256_and_si256(bits_to_bytes(b.qh), _mm256_set1_epi8(16));
    return _mm256_or_si256(nibbles_32(b.qs), fifth);
  }
  static __m512 pair_scale(const Block& a, const Block& b) { return fp16_pair(a.d, b.d); }
  static float scale(const Block& b) { return half(b.d); }
  static float min(const Block& b) { return half(b.m); }
};

// Σ_b d_w d_x Σ w x (+ m_w s_x when the format has a min). kPrefetch: a software prefetch 512
// bytes ahead in each row (off for the one-token stream of long rows, block_dot_tile).
template <class F, bool kMin, bool kPrefetch = true>
struct BlockKernel {
  template <int RB, int TB>
  static void run(const DotTile& t, int64_t r0, int64_t t0) {
    using Block = typename F::Block;
    using XBlock = std::conditional_t<kMin, BlockQ8_1, BlockQ8_0>;
    const Block* w[RB];
    const XBlock* x[TB];
    for (int i = 0; i < RB; ++i) w[i] = reinterpret_cast<const Block*>(t.w + (r0 + i) * t.w_stride);
    for (int j = 0; j < TB; ++j) {
      x[j] = reinterpret_cast<const XBlock*>(t.x + (t0 + j) * t.x_stride);
    }
    __m512 acc[RB][TB];
    float min_sum[RB][TB] = {};
    for (auto& row : acc) {
      for (auto& a : row) a = _mm512_setzero_ps();
    }
    const int64_t nb = t.cols / 32;
    int64_t b = 0;
    for (; b + 2 <= nb; b += 2) {
      __m512i u[RB];        // |w| (signed formats) or q (formats with a min)
      __mmask64 neg[RB]{};  // where w < 0
      __m512 dw[RB];
      float mw[RB][2];
      for (int i = 0; i < RB; ++i) {
        if constexpr (kPrefetch) prefetch_ahead(&w[i][b]);
        const __m512i v = join(F::values(w[i][b]), F::values(w[i][b + 1]));
        if constexpr (kMin) {
          u[i] = v;
          mw[i][0] = F::min(w[i][b]);
          mw[i][1] = F::min(w[i][b + 1]);
        } else {
          u[i] = _mm512_abs_epi8(v);
          neg[i] = _mm512_movepi8_mask(v);
        }
        dw[i] = F::pair_scale(w[i][b], w[i][b + 1]);
      }
      for (int j = 0; j < TB; ++j) {
        const __m512i xv = join(load256(x[j][b].qs), load256(x[j][b + 1].qs));
        const __m512 dx = fp16_pair(x[j][b].d, x[j][b + 1].d);
        for (int i = 0; i < RB; ++i) {
          __m512i sumi;
          if constexpr (kMin) {
            sumi = _mm512_dpbusd_epi32(_mm512_setzero_si512(), u[i], xv);
            min_sum[i][j] += mw[i][0] * half(x[j][b].s);
            min_sum[i][j] += mw[i][1] * half(x[j][b + 1].s);
          } else {
            const __m512i sx = _mm512_mask_sub_epi8(xv, neg[i], _mm512_setzero_si512(), xv);
            sumi = _mm512_dpbusd_epi32(_mm512_setzero_si512(), u[i], sx);
          }
          acc[i][j] =
              _mm512_fmadd_ps(_mm512_mul_ps(dw[i], dx), _mm512_cvtepi32_ps(sumi), acc[i][j]);
        }
      }
    }
    for (int i = 0; i < RB; ++i) {
      for (int j = 0; j < TB; ++j) {
        float sum = _mm512_reduce_add_ps(acc[i][j]);
        if (b < nb) {  // odd last block
          const __m256i v = F::values(w[i][b]);
          const __m256i xv = load256(x[j][b].qs);
          __m256i sumi;
          if constexpr (kMin) {
            sumi = _mm256_dpbusd_epi32(_mm256_setzero_si256(), v, xv);
            min_sum[i][j] += F::min(w[i][b]) * half(x[j][b].s);
          } else {
            const __m256i sx = _mm256_sign_epi8(xv, v);
            sumi = _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_abs_epi8(v), sx);
          }
          const float d = F::scale(w[i][b]) * half(x[j][b].d);
          sum += hsum(_mm256_mul_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi)));
        }
        t.y[(t0 + j) * t.y_stride + r0 + i] = sum + min_sum[i][j];
      }
    }
  }
};

// ---- K-quants against Q8_K. A super-block is unpacked to 4 vectors of 64 unsigned values and
// int16 multipliers per value pair (each 32- or 16-value group's scale); Q5_K also keeps its 8
// mins expanded to the 16 activation bsums. Q6_K values stay 0..63; its -32 offset is applied
// through the bsums. Q4_K (and MXFP4) have kernels of their own: avx512_vnni_q4k.cpp (_mxfp4.cpp).

struct KBlock {
  __m512i q[4];
  __m512i scale[4];
  __m256i group;  // int16 per 16-value group: the min (Q4_K/Q5_K) or the scale (Q6_K)
  float d, dmin;
};

// Lane pattern for vector c of a super-block: int16 lanes 0-15 take sub-block 2c's scale,
// lanes 16-31 sub-block 2c+1's.
inline __m512i k_scale_index(int c) {
  return _mm512_inserti64x4(_mm512_set1_epi16(static_cast<int16_t>(2 * c)),
                            _mm256_set1_epi16(static_cast<int16_t>(2 * c + 1)), 1);
}

inline void k_scales(const uint8_t* packed, KBlock& k) {
  const KScalesMins sm = k_scales_mins(packed);
  const __m512i sc16 =
      _mm512_castsi128_si512(_mm_cvtepu8_epi16(_mm_cvtsi64_si128(static_cast<int64_t>(sm.scales))));
  for (int c = 0; c < 4; ++c) k.scale[c] = _mm512_permutexvar_epi16(k_scale_index(c), sc16);
  const __m128i m16 = _mm_cvtepu8_epi16(_mm_cvtsi64_si128(static_cast<int64_t>(sm.mins)));
  k.group = _mm256_set_m128i(_mm_unpackhi_epi16(m16, m16), _mm_unpacklo_epi16(m16, m16));
}

struct Q5KFormat {
  using Block = BlockQ5_K;
  static constexpr bool kHasMins = true;
  static void unpack(const Block& b, KBlock& k) {
    const __m256i low4 = _mm256_set1_epi8(0x0f);
    const __m256i one = _mm256_set1_epi8(1);
    const __m256i qh = load256(b.qh);
    for (int c = 0; c < 4; ++c) {
      const __m256i bytes = load256(b.qs + 32 * c);
      // Bit (2c) / (2c+1) of qh[l] is the 5th bit of the low / high nibble value l.
      const __m256i h0 = _mm256_and_si256(_mm256_srli_epi16(qh, 2 * c), one);
      const __m256i h1 = _mm256_and_si256(_mm256_srli_epi16(qh, 2 * c + 1), one);
      k.q[c] = join(_mm256_or_si256(_mm256_and_si256(bytes, low4), _mm256_slli_epi16(h0, 4)),
                    _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(bytes, 4), low4),
                                    _mm256_slli_epi16(h1, 4)));
    }
    k_scales(b.scales, k);
    k.d = half(b.d);
    k.dmin = half(b.dmin);
  }
};

struct Q6KFormat {
  using Block = BlockQ6_K;
  static constexpr bool kHasMins = false;
  static void unpack(const Block& b, KBlock& k) {
    const __m256i low4 = _mm256_set1_epi8(0x0f);
    const __m256i two = _mm256_set1_epi8(0x30);
    for (int h = 0; h < 2; ++h) {
      const __m256i ql0 = load256(b.ql + 64 * h);
      const __m256i ql1 = load256(b.ql + 64 * h + 32);
      const __m256i qh = load256(b.qh + 32 * h);
      const __m256i v0 = _mm256_or_si256(_mm256_and_si256(ql0, low4),
                                         _mm256_and_si256(_mm256_slli_epi16(qh, 4), two));
      const __m256i v1 = _mm256_or_si256(_mm256_and_si256(ql1, low4),
                                         _mm256_and_si256(_mm256_slli_epi16(qh, 2), two));
      const __m256i v2 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), low4),
                                         _mm256_and_si256(qh, two));
      const __m256i v3 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), low4),
                                         _mm256_and_si256(_mm256_srli_epi16(qh, 2), two));
      k.q[2 * h] = join(v0, v1);
      k.q[2 * h + 1] = join(v2, v3);
    }
    const __m256i sc16 =
        _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b.scales)));
    k.group = sc16;
    // Vector c holds groups 4c..4c+3, 8 int16 pair-lanes each.
    const __m512i wide = _mm512_castsi256_si512(sc16);
    for (int c = 0; c < 4; ++c) {
      const __m512i idx = _mm512_add_epi16(
          _mm512_set1_epi16(static_cast<int16_t>(4 * c)),
          _mm512_set_epi64(0x0003000300030003, 0x0003000300030003, 0x0002000200020002,
                           0x0002000200020002, 0x0001000100010001, 0x0001000100010001, 0, 0));
      k.scale[c] = _mm512_permutexvar_epi16(idx, wide);
    }
    k.d = half(b.d);
    k.dmin = 0;
  }
};

template <class F>
struct KQuantKernel {
  template <int RB, int TB>
  static void run(const DotTile& t, int64_t r0, int64_t t0) {
    using Block = typename F::Block;
    const Block* w[RB];
    const BlockQ8_K* x[TB];
    for (int i = 0; i < RB; ++i) w[i] = reinterpret_cast<const Block*>(t.w + (r0 + i) * t.w_stride);
    for (int j = 0; j < TB; ++j) {
      x[j] = reinterpret_cast<const BlockQ8_K*>(t.x + (t0 + j) * t.x_stride);
    }
    __m256 acc[RB][TB];
    for (auto& row : acc) {
      for (auto& a : row) a = _mm256_setzero_ps();
    }
    const int64_t nb = t.cols / kQK_K;
    KBlock k[RB];
    for (int64_t b = 0; b < nb; ++b) {
      for (int i = 0; i < RB; ++i) {
        prefetch_ahead(&w[i][b]);
        F::unpack(w[i][b], k[i]);
      }
      for (int j = 0; j < TB; ++j) {
        const BlockQ8_K& xb = x[j][b];
        const __m256i bsums = load256(xb.bsums);
        for (int i = 0; i < RB; ++i) {
          __m512i sumi = _mm512_setzero_si512();
          for (int c = 0; c < 4; ++c) {
            const __m512i xv = _mm512_loadu_si512(xb.qs + 64 * c);
            sumi = _mm512_dpwssd_epi32(sumi, _mm512_maddubs_epi16(k[i].q[c], xv), k[i].scale[c]);
          }
          // 16 -> 8 int32 lanes so that the group sums (8 lanes) line up.
          __m256i s8 =
              _mm256_add_epi32(_mm512_castsi512_si256(sumi), _mm512_extracti64x4_epi64(sumi, 1));
          const __m256i group = _mm256_madd_epi16(bsums, k[i].group);
          const float dx = xb.d;
          if constexpr (F::kHasMins) {
            acc[i][j] =
                _mm256_fmadd_ps(_mm256_set1_ps(k[i].d * dx), _mm256_cvtepi32_ps(s8), acc[i][j]);
            acc[i][j] = _mm256_fnmadd_ps(_mm256_set1_ps(k[i].dmin * dx), _mm256_cvtepi32_ps(group),
                                         acc[i][j]);
          } else {
            s8 = _mm256_sub_epi32(s8, _mm256_slli_epi32(group, 5));
            acc[i][j] =
                _mm256_fmadd_ps(_mm256_set1_ps(k[i].d * dx), _mm256_cvtepi32_ps(s8), acc[i][j]);
          }
        }
      }
    }
    for (int i = 0; i < RB; ++i) {
      for (int j = 0; j < TB; ++j) t.y[(t0 + j) * t.y_stride + r0 + i] = hsum(acc[i][j]);
    }
  }
};

template <class K, int kDecodeRows, int kRows, int kTokens>
void dot_tile(const DotTile& t) {
  if (t.n_x == 1) {
    drive_tile<K, kDecodeRows, 1>(t);
  } else {
    drive_tile<K, kRows, kTokens>(t);
  }
}

// One token on rows of at least this many blocks (Q8_0: 1088 bytes) streams the weights from
// memory: one row after the other, without software prefetch. One sequential stream is what the
// hardware prefetcher follows best; four interleaved rows with a prefetch 512 bytes ahead in each
// took 2x the CPU time per decode layer on Zen 5 (bench_kernels moe-decode/Q8_0, 1 thread,
// bench/kernels/README.md), and the prefetch alone on the one stream cost ~10 %. Shorter rows
// (the built-in model's 192 and 96 values) are cache-resident and keep four rows per pass, which
// share the activation's loads. Each row's arithmetic is the same either way.
constexpr int64_t kStreamRowBlocks = 32;

template <class F, bool kMin>
void block_dot_tile(const DotTile& t) {
  if (t.n_x == 1 && t.cols / 32 >= kStreamRowBlocks) {
    drive_tile<BlockKernel<F, kMin, /*kPrefetch=*/false>, 1, 1>(t);
  } else {
    dot_tile<BlockKernel<F, kMin>, 4, 4, 4>(t);
  }
}

DotTileFn vnni_dot_tile(GgmlType type) {
  switch (type) {
    case GgmlType::Q8_0:
      return block_dot_tile<Q8_0Format, false>;
    case GgmlType::Q4_0:
      return dot_tile<BlockKernel<Q4_0Format, false>, 4, 4, 4>;
    case GgmlType::Q5_0:
      return dot_tile<BlockKernel<Q5_0Format, false>, 4, 4, 4>;
    case GgmlType::MXFP4:
      return avx512_vnni_mxfp4_dot_tile();
    case GgmlType::Q4_1:
      return dot_tile<BlockKernel<Q4_1Format, true>, 4, 4, 4>;
    case GgmlType::Q5_1:
      return dot_tile<BlockKernel<Q5_1Format, true>, 4, 4, 4>;
    case GgmlType::Q4_K:
      return avx512_vnni_q4_k_dot_tile();
    case GgmlType::Q5_K:
      return dot_tile<KQuantKernel<Q5KFormat>, 1, 1, 4>;
    case GgmlType::Q6_K:
      return dot_tile<KQuantKernel<Q6KFormat>, 1, 2, 4>;
    default:
      return nullptr;
  }
}

}  // namespace
}  // namespace moescope::kernels

#include "engine/tensor/kernels/target_end.inc"

namespace moescope::kernels {
DotTileFn avx512_vnni_dot_tile(GgmlType type) {
  return vnni_dot_tile(type);
}
}  // namespace moescope::kernels

#else  // not x86

namespace moescope::kernels {
DotTileFn avx512_vnni_dot_tile(GgmlType) {
  return nullptr;
}
}  // namespace moescope::kernels

#endif
