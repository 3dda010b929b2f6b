// AVX2 + FMA + F16C kernels (256-bit). The whole file is compiled for that target (pragma below);
// nothing here runs unless cpu_features reported AVX2, so the binary stays baseline x86-64.
//
// Integer formats: a 32-value block is one vector of int8. Signed weights times signed activations
// use the usual trick maddubs(|w|, sign(x, w)) (the first operand of maddubs is unsigned); the
// per-block int32 sums are converted to float and accumulated with one FMA per block, like ggml's
// AVX2 kernels (the signed-weight formats, Q8_0 among them, do that four blocks at a time: see
// SignedQ8Kernel). Every (row, token) pair sees the same sequence of operations whatever the tile
// shape, so results do not depend on how rows are split between threads.
#include "engine/tensor/kernels/kernels.h"

#if defined(__x86_64__) || defined(__i386__)

// Every header comes before the target pragma (target_begin.inc): inline functions defined in
// headers must be compiled for baseline x86-64 here too, or the linker could keep this file's copy
// for all callers.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <type_traits>
#include <vector>

#include "engine/tensor/blocks.h"
#include "engine/tensor/fp16.h"
#include "engine/tensor/kernels/x86_common.h"

#define MOESCOPE_KERNEL_TARGET "avx2,fma,f16c"
#include "engine/tensor/kernels/target_begin.inc"

namespace moescope::kernels {
namespace {

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

inline float half(uint16_t h) {
  return _cvtsh_ss(h);
}

// Decode streams weight rows from memory. Each kernel pass reads a few rows block by block, and
// a software prefetch of the same bytes kPrefetchRows rows further on (two passes ahead) keeps
// loads in flight across the row and 4 KiB page boundaries where the hardware prefetcher stops:
// on the 64-expert Q8_0 model (2176-byte rows) this streamed 1.8x the weight bytes per CPU
// second of a prefetch 512 bytes ahead within the row (bench/kernels/README.md).
constexpr int64_t kPrefetchRows = 8;

// Prefetches the `bytes` (one block, a cache line or more) at p, kPrefetchRows rows on.
inline void prefetch_rows_ahead(const void* p, size_t row_stride, size_t bytes) {
  const char* ahead = static_cast<const char*>(p) + kPrefetchRows * row_stride;
  for (size_t off = 0; off < bytes; off += 64) _mm_prefetch(ahead + off, _MM_HINT_T0);
}

inline __m256i load256(const void* p) {
  return _mm256_loadu_si256(static_cast<const __m256i*>(p));
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
  // Byte j takes input byte j / 8, then tests bit j % 8 of it.
  const __m256i spread = _mm256_shuffle_epi8(
      _mm256_set1_epi32(static_cast<int>(bits)),
      _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202, 0x0101010101010101, 0));
  const __m256i bit = _mm256_set1_epi64x(static_cast<int64_t>(0x8040201008040201ull));
  return _mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit);
}

// Σ of 4 adjacent u8*s8 products per int32 lane.
inline __m256i dot_u8_s8(__m256i u, __m256i s) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
}

// Σ of each of four vectors' eight int32 lanes, as lanes 0..3.
inline __m128i hsum4_epi32(__m256i p0, __m256i p1, __m256i p2, __m256i p3) {
  const __m256i a = _mm256_add_epi32(_mm256_unpacklo_epi32(p0, p1), _mm256_unpackhi_epi32(p0, p1));
  const __m256i b = _mm256_add_epi32(_mm256_unpacklo_epi32(p2, p3), _mm256_unpackhi_epi32(p2, p3));
  const __m256i c = _mm256_add_epi32(_mm256_unpacklo_epi64(a, b), _mm256_unpackhi_epi64(a, b));
  return _mm_add_epi32(_mm256_castsi256_si128(c), _mm256_extracti128_si256(c, 1));
}

// Four rows' fp16 block scales as floats.
template <class Block>
inline __m128 half_scales4(const Block& b0, const Block& b1, const Block& b2, const Block& b3) {
  return _mm_cvtph_ps(_mm_setr_epi16(static_cast<int16_t>(b0.d), static_cast<int16_t>(b1.d),
                                     static_cast<int16_t>(b2.d), static_cast<int16_t>(b3.d), 0, 0,
                                     0, 0));
}

// ---- Formats whose activations are Q8_0 (signed weights) or Q8_1 (unsigned weights + min).

struct Q8_0Format {
  using Block = BlockQ8_0;
  static __m256i values(const Block& b) { return load256(b.qs); }
  static __m128 scales4(const Block& b0, const Block& b1, const Block& b2, const Block& b3) {
    return half_scales4(b0, b1, b2, b3);
  }
};

struct Q4_0Format {
  using Block = BlockQ4_0;
  static __m256i values(const Block& b) {
    return _mm256_sub_epi8(nibbles_32(b.qs), _mm256_set1_epi8(8));
  }
  static __m128 scales4(const Block& b0, const Block& b1, const Block& b2, const Block& b3) {
    return half_scales4(b0, b1, b2, b3);
  }
};

struct Q5_0Format {
  using Block = BlockQ5_0;
  // q - 16 as int8: with the 5th bit clear, the nibble minus 16 is the nibble with 0xf0 set.
  static __m256i values(const Block& b) {
    const __m256i high_clear = _mm256_andnot_si256(bits_to_bytes(b.qh), _mm256_set1_epi8(-16));
    return _mm256_or_si256(nibbles_32(b.qs), high_clear);
  }
  static __m128 scales4(const Block& b0, const Block& b1, const Block& b2, const Block& b3) {
    return half_scales4(b0, b1, b2, b3);
  }
};

struct Mxfp4Format {
  using Block = BlockMXFP4;
  static __m256i values(const Block& b) {
    const __m128i table = _mm_loadu_si128(reinterpret_cast<const __m128i*>(kMxfp4Values));
    return _mm256_shuffle_epi8(_mm256_set_m128i(table, table), nibbles_32(b.qs));
  }
  static __m128 scales4(const Block& b0, const Block& b1, const Block& b2, const Block& b3) {
    return _mm_setr_ps(e8m0_to_fp32_half(b0.e), e8m0_to_fp32_half(b1.e), e8m0_to_fp32_half(b2.e),
                       e8m0_to_fp32_half(b3.e));
  }
};

struct Q4_1Format {
  using Block = BlockQ4_1;
  static __m256i values(const Block& b) { return nibbles_32(b.qs); }
  static float scale(const Block& b) { return half(b.d); }
  static float min(const Block& b) { return half(b.m); }
};

struct Q5_1Format {
  using Block = BlockQ5_1;
  static __m256i values(const Block& b) {
    const __m256i fifth = _mm256_and_si256(bits_to_bytes(b.qh), _mm256_set1_epi8(16));
    return _mm256_or_si256(nibbles_32(b.qs), fifth);
  }
  static float scale(const Block& b) { return half(b.d); }
  static float min(const Block& b) { return half(b.m); }
};

// Signed weights against Q8_0 activations: Σ_b d_w d_x Σ w x, one row at a time, four blocks per
// step.
//
// Per (row, token) pair the arithmetic is, for each step of four blocks b..b+3: the exact int32
// Σ w x of each block, reduced together into one __m128i (lane k = block b+k), converted once and
// accumulated as acc = fma(d_w * d_x, float(Σ w x), acc) in four float lanes; a last partial step
// has zero sums and zero scales in its missing lanes. The result is (acc0 + acc2) + (acc1 + acc3).
// The float work is one conversion, one multiply and one FMA per four blocks where a per-block
// FMA needs a broadcast scale and a conversion per block. Decode and batches run the same step
// (batches share a row's unpacked blocks between tokens), so batches stay bit-identical to
// token-by-token decoding.
//
// One row at a time reads the weights as one sequential stream, which the hardware prefetchers
// follow; a software prefetch kSignedQ8PrefetchBytes ahead keeps loads in flight across the rows
// and 4 KiB pages (on the 64-expert Q8_0 model this streamed 1.1-1.2x the bytes per CPU second of
// four interleaved rows with prefetches eight rows ahead; bench/kernels/README.md).
constexpr size_t kSignedQ8PrefetchBytes = 2048;

// Up to this many tokens a batch goes row by row, all its tokens in one pass (run<n_x>); from
// one more on, through strips of eight transposed rows (SignedQ8Strips). A strip costs about as
// much to build as a few tokens' products, so it pays only for more tokens: on one expert of the
// realistic 64-expert model (1024 x 2048, one thread, CPU time) the row pass took 0.82x the
// strips' time at 2 tokens, 0.96x at 3, 1.02x at 4 (bench/kernels/README.md). A MoE prompt gives
// each expert few tokens (32 tokens, top-8 of 64: about four).
constexpr int kSignedQ8RowsMaxTokens = 3;

template <class F>
struct SignedQ8Kernel {
  using Block = typename F::Block;

  // One step of blocks b..b+n-1 (n <= 4; the missing blocks count as zero values and zero scales)
  // of row w for TB tokens. kFull: n == 4, without the branches a partial step needs (they would
  // keep acc in memory).
  template <int TB, bool kFull>
  static inline __attribute__((always_inline)) void step(const Block* w, const BlockQ8_0* const* x,
                                                         const float* const* dx, int64_t b, int n,
                                                         __m128* acc) {
    __m256i abs_w[4], sign_w[4];
    for (int k = 0; k < 4; ++k) {
      const __m256i v = kFull || k < n ? F::values(w[b + k]) : _mm256_setzero_si256();
      abs_w[k] = _mm256_sign_epi8(v, v);
      sign_w[k] = v;
    }
    const __m128 dw = kFull ? F::scales4(w[b], w[b + 1], w[b + 2], w[b + 3])
                            : F::scales4(w[b], w[b + (n > 1 ? 1 : 0)], w[b + (n > 2 ? 2 : 0)],
                                         w[b + (n > 3 ? 3 : 0)]);
    for (int j = 0; j < TB; ++j) {
      __m256i p[4];
      for (int k = 0; k < 4; ++k) {
        const __m256i xv = kFull || k < n ? load256(x[j][b + k].qs) : _mm256_setzero_si256();
        p[k] = dot_u8_s8(abs_w[k], _mm256_sign_epi8(xv, sign_w[k]));
      }
      const __m128 d = _mm_mul_ps(dw, _mm_loadu_ps(dx[j] + b));
      acc[j] = _mm_fmadd_ps(d, _mm_cvtepi32_ps(hsum4_epi32(p[0], p[1], p[2], p[3])), acc[j]);
    }
  }

  // A pass of TB tokens over row r: y[t0 + j][r] for j < TB. dx[j] points to token t0 + j's block
  // scales as floats ([nb + 3], the last three zero).
  template <int TB>
  static void run(const DotTile& t, int64_t r, int64_t t0, const float* const* dx) {
    const Block* w = reinterpret_cast<const Block*>(t.w + r * t.w_stride);
    const BlockQ8_0* x[TB];
    for (int j = 0; j < TB; ++j) {
      x[j] = reinterpret_cast<const BlockQ8_0*>(t.x + (t0 + j) * t.x_stride);
    }
    __m128 acc[TB];
    for (auto& a : acc) a = _mm_setzero_ps();
    const int64_t nb = t.cols / 32;
    int64_t b = 0;
    for (; b + 4 <= nb; b += 4) {
      const char* ahead = reinterpret_cast<const char*>(w + b) + kSignedQ8PrefetchBytes;
      for (int off = 0; off < 4 * static_cast<int>(sizeof(Block)); off += 64) {
        _mm_prefetch(ahead + off, _MM_HINT_T0);
      }
      step<TB, true>(w, x, dx, b, 4, acc);
    }
    if (b < nb) step<TB, false>(w, x, dx, b, static_cast<int>(nb - b), acc);
    for (int j = 0; j < TB; ++j) {
      const __m128 pairs = _mm_add_ps(acc[j], _mm_movehl_ps(acc[j], acc[j]));
      t.y[(t0 + j) * t.y_stride + r] = _mm_cvtss_f32(_mm_add_ss(pairs, _mm_movehdup_ps(pairs)));
    }
  }

  // Batches of more than kSignedQ8RowsMaxTokens tokens: strips of eight rows (SignedQ8Strips,
  // which lays the tokens out itself). Fewer: the tokens' block scales as floats, then the rows one
  // after the other with every token in the pass. One token: the rows one after the other.
  static void tile(const DotTile& t);
};

// Eight rows of one block transposed, so that int32 lane i is row i: the batch kernel. Built once
// per tile and shared by every token, it replaces the per-(row, token) reduction of four blocks'
// sums by broadcasts of the activation's 4-byte groups. Each lane then follows the one-token
// recipe exactly: block b's exact sum, one multiply and one FMA into accumulator b % 4, the sum
// (acc0 + acc2) + (acc1 + acc3) at the end (a row kernel's partial last step only adds zeros).
template <class F>
struct SignedQ8Strips {
  using Block = typename F::Block;
  static constexpr int kRows = 8;
  static constexpr int kTokens = 8;

  // Plain bytes, read and written with unaligned loads and stores: a std::vector of __m256i
  // members is not guaranteed its 32-byte alignment here.
  struct Strip {
    int8_t w[8][32];     // w[l]: values 4l..4l+3 of row i in int32 lane i
    uint8_t abs[8][32];  // |w[l]| bytewise
    float d[8];          // the rows' scales
  };

  // Also prefetches block b of the next strip's rows (kPrefetchRows = 8 rows on): eight rows read
  // side by side are streams too short for the hardware prefetchers.
  static void build(const Block* const* rows, int64_t b, size_t row_stride, Strip& s) {
    __m256i r[8];
    for (int i = 0; i < 8; ++i) {
      prefetch_rows_ahead(&rows[i][b], row_stride, 1);
      r[i] = F::values(rows[i][b]);
    }
    // 8x8 transpose of int32: rows i -> lanes i.
    __m256i t[8], u[8];
    for (int i = 0; i < 4; ++i) {
      t[2 * i] = _mm256_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
      t[2 * i + 1] = _mm256_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
    }
    for (int h = 0; h < 2; ++h) {  // rows 4h..4h+3
      const __m256i* th = t + 4 * h;
      u[4 * h + 0] = _mm256_unpacklo_epi64(th[0], th[2]);
      u[4 * h + 1] = _mm256_unpackhi_epi64(th[0], th[2]);
      u[4 * h + 2] = _mm256_unpacklo_epi64(th[1], th[3]);
      u[4 * h + 3] = _mm256_unpackhi_epi64(th[1], th[3]);
    }
    for (int l = 0; l < 4; ++l) {
      store_strip(s, l, _mm256_permute2x128_si256(u[l], u[4 + l], 0x20));
      store_strip(s, l + 4, _mm256_permute2x128_si256(u[l], u[4 + l], 0x31));
    }
    _mm256_storeu_ps(s.d,
                     _mm256_set_m128(F::scales4(rows[4][b], rows[5][b], rows[6][b], rows[7][b]),
                                     F::scales4(rows[0][b], rows[1][b], rows[2][b], rows[3][b])));
  }

  static void store_strip(Strip& s, int l, __m256i v) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(s.w[l]), v);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(s.abs[l]), _mm256_sign_epi8(v, v));
  }

  // Block b of TB tokens: acc[8 j .. 8 j + 7] += (d_w · d_x) · Σ w x, lane i for row i (acc is
  // token j's accumulator of b % 4). xb[j][32]: token j's values of block b, db[j] its scale
  // (the tile's activations rearranged block-major, so that one pointer and constant offsets
  // reach every token's 4-byte groups: with a pointer per token the compiler reloaded the
  // pointers and spilled sums). The accumulators live in memory: one load and one store per
  // block and token beside 32 integer operations, where keeping 4 · TB of them in registers made
  // the compiler spill the integer sums instead.
  template <int TB>
  static inline __attribute__((always_inline)) void block(const Strip& s, const int8_t* xb,
                                                          const float* db, float* acc) {
    __m256i sum[TB];
    for (auto& v : sum) v = _mm256_setzero_si256();
#pragma GCC unroll 8
    for (int l = 0; l < 8; ++l) {
      const __m256i abs_w = load256(s.abs[l]);
      const __m256i w = load256(s.w[l]);
#pragma GCC unroll 8
      for (int j = 0; j < TB; ++j) {
        int32_t group;
        std::memcpy(&group, xb + 32 * j + 4 * l, 4);
        const __m256i xv = _mm256_set1_epi32(group);
        sum[j] = _mm256_add_epi32(sum[j], dot_u8_s8(abs_w, _mm256_sign_epi8(xv, w)));
        // Pins the running sum in its register at this point: left free, GCC computed all
        // 8 · TB products first and added them as a tree, spilling most of them to the stack.
        __asm__("" : "+x"(sum[j]));
      }
    }
    const __m256 dw = _mm256_loadu_ps(s.d);
    for (int j = 0; j < TB; ++j) {
      const __m256 d = _mm256_mul_ps(dw, _mm256_set1_ps(db[j]));
      _mm256_storeu_ps(acc + 8 * j, _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(sum[j]),
                                                    _mm256_loadu_ps(acc + 8 * j)));
    }
  }

  // The tile's activations block-major: xq[b][j][32] the values of token j's block b, dq[b][j]
  // its scale as a float.
  static void pack_tokens(const DotTile& t, int64_t nb, int8_t* xq, float* dq) {
    const int64_t n_x = t.n_x;
    for (int64_t j = 0; j < n_x; ++j) {
      const auto* x = reinterpret_cast<const BlockQ8_0*>(t.x + j * t.x_stride);
      int8_t* values = xq + 32 * j;
      float* scale = dq + j;
      for (int64_t b = 0; b < nb; ++b, values += 32 * n_x, scale += n_x) {
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(values), load256(x[b].qs));
        *scale = half(x[b].d);
      }
    }
  }

  // The tile in strips of eight rows (missing rows repeat the first; their lanes are not stored),
  // block by block: block b of the strip is transposed once into a few hundred bytes that stay in
  // L1 and every token of the tile goes through it, kTokens at a time and the last kRest
  // (n_x % kTokens) in one more pass, before block b + 1. Building the whole strip first (35 KB
  // for 2048 values, more than L1) and then passing over it per four tokens with the accumulators
  // in registers was a little slower (one expert of the realistic model, 1024x2048, best of 5
  // interleaved runs at load 4: 4 tokens 307 -> 289 us, 8 tokens 480 -> 460 us CPU time). kRest
  // is a template parameter so that the passes inline into the block loop (a call per block and
  // strip, with the strip reloaded after it, cost a few per cent). xq, dq: pack_tokens; acc
  // [4][n_x][8]: accumulator k of each token.
  template <int kRest>
  static void strips(const DotTile& t, const int8_t* xq, const float* dq, float* acc) {
    const int64_t nb = t.cols / 32;
    const int64_t n_x = t.n_x;
    const int64_t full = n_x - kRest;  // tokens in passes of kTokens
    for (int64_t r0 = 0; r0 < t.n_rows; r0 += kRows) {
      const int n_rows = static_cast<int>(std::min<int64_t>(kRows, t.n_rows - r0));
      const Block* rows[kRows];
      for (int i = 0; i < kRows; ++i) {
        rows[i] = reinterpret_cast<const Block*>(t.w + (r0 + (i < n_rows ? i : 0)) * t.w_stride);
      }
      std::fill(acc, acc + 4 * n_x * 8, 0.0f);
      for (int64_t b = 0; b < nb; ++b) {
        Strip s;
        build(rows, b, t.w_stride, s);
        float* acc_b = acc + (b % 4) * n_x * 8;
        const int8_t* xb = xq + b * n_x * 32;
        const float* db = dq + b * n_x;
        for (int64_t j = 0; j < full; j += kTokens) {
          block<kTokens>(s, xb + 32 * j, db + j, acc_b + 8 * j);
        }
        if constexpr (kRest > 0) block<kRest>(s, xb + 32 * full, db + full, acc_b + 8 * full);
      }
      for (int64_t j = 0; j < n_x; ++j) {
        const float* a = acc + 8 * j;
        const int64_t k = n_x * 8;  // from one accumulator to the next
        alignas(32) float out[8];
        _mm256_store_ps(
            out, _mm256_add_ps(_mm256_add_ps(_mm256_loadu_ps(a), _mm256_loadu_ps(a + 2 * k)),
                               _mm256_add_ps(_mm256_loadu_ps(a + k), _mm256_loadu_ps(a + 3 * k))));
        float* y = t.y + j * t.y_stride + r0;
        for (int i = 0; i < n_rows; ++i) y[i] = out[i];
      }
    }
  }

  static void tile(const DotTile& t) {
    const int64_t nb = t.cols / 32;
    const int64_t n_x = t.n_x;
    thread_local std::vector<int8_t> xq;  // [nb][n_x][32]
    thread_local std::vector<float> dq;   // [nb][n_x]
    thread_local std::vector<float> acc;  // [4][n_x][8]
    xq.resize(static_cast<size_t>(nb * n_x * 32));
    dq.resize(static_cast<size_t>(nb * n_x));
    acc.resize(static_cast<size_t>(4 * n_x * 8));
    pack_tokens(t, nb, xq.data(), dq.data());
    with_token_count<kTokens>(static_cast<int>(n_x % kTokens) + 1,
                              [&]<int N>() { strips<N - 1>(t, xq.data(), dq.data(), acc.data()); });
  }
};

// One-token decode of short rows, two rows side by side: one 256-bit accumulator holds row r's
// four recipe lanes in lanes 0-3 and row r + 1's in lanes 4-7, so a step of four blocks of both
// rows shares the activation loads, one 8-sum reduction, one conversion, one multiply and one FMA,
// and the final (acc0 + acc2) + (acc1 + acc3) serves both rows. Each lane's float sequence is the
// row kernel's; a last step of kN < 4 blocks multiplies the missing lanes' sums by a scale of
// exactly zero, which leaves their accumulators unchanged, as the row kernel's zero blocks do.
// On rows of a few blocks (the built-in model's 192 and 96 values) the per-row reductions, scale
// gathers and the partial step's branches of the row kernel cost more than the blocks' products.
template <class F>
struct SignedQ8PairDecode {
  using Block = typename F::Block;

  // Lanes 0..3: the sums of a[0..3]'s int32 lanes; lanes 4..7: of b[0..3].
  static inline __attribute__((always_inline)) __m256i hsum_2x4(const __m256i* a,
                                                                const __m256i* b) {
    const __m256i qa = hsum4_halves(a), qb = hsum4_halves(b);
    return _mm256_add_epi32(_mm256_permute2x128_si256(qa, qb, 0x20),
                            _mm256_permute2x128_si256(qa, qb, 0x31));
  }

  // Per 128-bit half: [Σ p0, Σ p1, Σ p2, Σ p3] of that half's lanes.
  static inline __attribute__((always_inline)) __m256i hsum4_halves(const __m256i* p) {
    const __m256i lo =
        _mm256_add_epi32(_mm256_unpacklo_epi32(p[0], p[1]), _mm256_unpackhi_epi32(p[0], p[1]));
    const __m256i hi =
        _mm256_add_epi32(_mm256_unpacklo_epi32(p[2], p[3]), _mm256_unpackhi_epi32(p[2], p[3]));
    return _mm256_add_epi32(_mm256_unpacklo_epi64(lo, hi), _mm256_unpackhi_epi64(lo, hi));
  }

  // Blocks b..b+kN-1 of rows wa and wb. dx: the token's block scales ([nb + 3], the last three
  // zero).
  template <int kN>
  static inline __attribute__((always_inline)) void step(const Block* wa, const Block* wb,
                                                         const BlockQ8_0* x, const float* dx,
                                                         int64_t b, __m256& acc) {
    // Both rows' bytes of these blocks, kSignedQ8PrefetchBytes on (a few rows further).
    constexpr int kLines = (kN * static_cast<int>(sizeof(Block)) + 63) / 64;
    for (int l = 0; l < kLines; ++l) {
      _mm_prefetch(reinterpret_cast<const char*>(wa + b) + kSignedQ8PrefetchBytes + 64 * l,
                   _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(wb + b) + kSignedQ8PrefetchBytes + 64 * l,
                   _MM_HINT_T0);
    }
    __m256i pa[4], pb[4];
    for (int k = 0; k < 4; ++k) {
      if (k < kN) {
        const __m256i xv = load256(x[b + k].qs);
        const __m256i va = F::values(wa[b + k]);
        const __m256i vb = F::values(wb[b + k]);
        pa[k] = dot_u8_s8(_mm256_sign_epi8(va, va), _mm256_sign_epi8(xv, va));
        pb[k] = dot_u8_s8(_mm256_sign_epi8(vb, vb), _mm256_sign_epi8(xv, vb));
      } else {
        pa[k] = pb[k] = _mm256_setzero_si256();
      }
    }
    constexpr int k1 = kN > 1 ? 1 : 0, k2 = kN > 2 ? 2 : 0, k3 = kN > 3 ? 3 : 0;
    const __m256 dw = _mm256_set_m128(F::scales4(wb[b], wb[b + k1], wb[b + k2], wb[b + k3]),
                                      F::scales4(wa[b], wa[b + k1], wa[b + k2], wa[b + k3]));
    __m256 d = _mm256_mul_ps(dw, _mm256_broadcast_ps(reinterpret_cast<const __m128*>(dx + b)));
    if constexpr (kN < 4) {
      constexpr int kLanes = ((1 << kN) - 1) * 0x11;  // blocks present, in both rows
      d = _mm256_blend_ps(_mm256_setzero_ps(), d, kLanes);
    }
    __m256i sums;
    if constexpr (kN == 2) {
      // One 4-sum reduction, [Σ a_b, Σ a_b+1, Σ b_b, Σ b_b+1], spread to lanes 0, 1 and 4, 5;
      // lanes 2, 3, 6, 7 repeat those (finite) sums and meet a zero scale.
      sums = _mm256_permutevar8x32_epi32(
          _mm256_castsi128_si256(hsum4_epi32(pa[0], pa[1], pb[0], pb[1])),
          _mm256_setr_epi32(0, 1, 0, 1, 2, 3, 2, 3));
    } else {
      sums = hsum_2x4(pa, pb);
    }
    acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(sums), acc);
  }

  // Rows [0, n_rows & ~1) of the tile; kTail = nb % 4.
  template <int kTail>
  static void rows(const DotTile& t, const float* dx) {
    const auto* x = reinterpret_cast<const BlockQ8_0*>(t.x);
    const int64_t full = t.cols / 32 / 4 * 4;
    for (int64_t r = 0; r + 2 <= t.n_rows; r += 2) {
      const std::byte* row = t.w + r * t.w_stride;
      const auto* wa = reinterpret_cast<const Block*>(row);
      const auto* wb = reinterpret_cast<const Block*>(row + t.w_stride);
      __m256 acc = _mm256_setzero_ps();
      for (int64_t b = 0; b < full; b += 4) step<4>(wa, wb, x, dx, b, acc);
      if constexpr (kTail > 0) step<kTail>(wa, wb, x, dx, full, acc);
      // Per row: lane 0 = acc0 + acc2, lane 1 = acc1 + acc3, then their sum, as run<1>.
      const __m256 pairs = _mm256_add_ps(acc, _mm256_permute_ps(acc, 0xee));
      const __m256 sums = _mm256_add_ps(pairs, _mm256_movehdup_ps(pairs));
      t.y[r] = _mm256_cvtss_f32(sums);
      t.y[r + 1] = _mm_cvtss_f32(_mm256_extractf128_ps(sums, 1));
    }
  }

  static void tile(const DotTile& t, const float* dx) {
    switch (t.cols / 32 % 4) {
      case 0:
        return rows<0>(t, dx);
      case 1:
        return rows<1>(t, dx);
      case 2:
        return rows<2>(t, dx);
      default:
        return rows<3>(t, dx);
    }
  }
};

// Rows of at most this many blocks decode two at a time (SignedQ8PairDecode); longer rows one at a
// time, as one sequential stream each.
constexpr int64_t kPairDecodeBlocks = 16;
// One token's block scales live on the stack up to this many blocks (32768 values).
constexpr int64_t kStackScaleBlocks = 1024;

// x's nb block scales as floats, then three zeros (a last partial step reads past the end).
inline void token_scales(const BlockQ8_0* x, int64_t nb, float* out) {
  for (int64_t b = 0; b < nb; ++b) out[b] = half(x[b].d);
  out[nb] = out[nb + 1] = out[nb + 2] = 0.0f;
}

template <class F>
void SignedQ8Kernel<F>::tile(const DotTile& t) {
  const int64_t nb = t.cols / 32;
  if (t.n_x == 1 && nb <= kStackScaleBlocks) {
    float scales[kStackScaleBlocks + 3];  // [padded]
    token_scales(reinterpret_cast<const BlockQ8_0*>(t.x), nb, scales);
    const float* dx[1] = {scales};
    int64_t r = 0;
    if (nb <= kPairDecodeBlocks) {
      SignedQ8PairDecode<F>::tile(t, scales);
      r = t.n_rows & ~int64_t{1};
    }
    for (; r < t.n_rows; ++r) run<1>(t, r, 0, dx);
    return;
  }
  if (t.n_x > kSignedQ8RowsMaxTokens) {
    SignedQ8Strips<F>::tile(t);
    return;
  }
  const int64_t padded = nb + 3;  // a last partial step reads up to three scales past the end
  thread_local std::vector<float> scales;  // [n_x][padded]
  scales.resize(static_cast<size_t>(t.n_x * padded));
  for (int64_t j = 0; j < t.n_x; ++j) {
    token_scales(reinterpret_cast<const BlockQ8_0*>(t.x + j * t.x_stride), nb,
                 scales.data() + j * padded);
  }
  // Every token in one pass over each row (one token here only for rows too long for the stack).
  with_token_count<kSignedQ8RowsMaxTokens>(static_cast<int>(t.n_x), [&]<int N>() {
    const float* dx[N];
    for (int j = 0; j < N; ++j) dx[j] = scales.data() + j * padded;
    for (int64_t r = 0; r < t.n_rows; ++r) run<N>(t, r, 0, dx);
  });
}

// Unsigned weights with a min against Q8_1: Σ_b d_w d_x Σ q x + m_w s_x.
template <class F>
struct MinQ8Kernel {
  template <int RB, int TB>
  static void run(const DotTile& t, int64_t r0, int64_t t0) {
    using Block = typename F::Block;
    const Block* w[RB];
    const BlockQ8_1* x[TB];
    for (int i = 0; i < RB; ++i) w[i] = reinterpret_cast<const Block*>(t.w + (r0 + i) * t.w_stride);
    for (int j = 0; j < TB; ++j) {
      x[j] = reinterpret_cast<const BlockQ8_1*>(t.x + (t0 + j) * t.x_stride);
    }
    __m256 acc[RB][TB];
    float min_sum[RB][TB] = {};
    for (auto& row : acc) {
      for (auto& a : row) a = _mm256_setzero_ps();
    }
    const int64_t nb = t.cols / 32;
    for (int64_t b = 0; b < nb; ++b) {
      __m256i q[RB];
      float dw[RB], mw[RB];
      for (int i = 0; i < RB; ++i) {
        prefetch_rows_ahead(&w[i][b], t.w_stride, 1);
        q[i] = F::values(w[i][b]);
        dw[i] = F::scale(w[i][b]);
        mw[i] = F::min(w[i][b]);
      }
      for (int j = 0; j < TB; ++j) {
        const __m256i xv = load256(x[j][b].qs);
        const float dx = half(x[j][b].d);
        const float sx = half(x[j][b].s);
        for (int i = 0; i < RB; ++i) {
          acc[i][j] = _mm256_fmadd_ps(_mm256_set1_ps(dw[i] * dx),
                                      _mm256_cvtepi32_ps(dot_u8_s8(q[i], xv)), acc[i][j]);
          min_sum[i][j] += mw[i] * sx;
        }
      }
    }
    for (int i = 0; i < RB; ++i) {
      for (int j = 0; j < TB; ++j) {
        t.y[(t0 + j) * t.y_stride + r0 + i] = hsum(acc[i][j]) + min_sum[i][j];
      }
    }
  }
};

// ---- K-quants against Q8_K. (Q4_K, Q5_K, Q6_K only; the Q8_0-family kernels are above.)
//
// Per (row, token) pair and super-block, whatever the tile shape (the one-token kernel is the
// 1x1 tile), the arithmetic is:
//   sumi  = Σ_c madd(maddubs(q_c, x_c), scale_c)   8 int32 lanes; q_c the c-th 32 unsigned
//                                                   values, scale_c their int16 scale(s)
//   group = madd(bsums, g)     g: Q4_K/Q5_K the min of each 16-value group, Q6_K its scale
//   Q4_K/Q5_K: acc = fma(d·dx, float(sumi), acc); acc = fnmadd(dmin·dx, float(group), acc)
//   Q6_K:      acc = fma(d·dx, float(sumi - 32·group), acc)   (values 0..63, offset 32)
// and y = hsum(acc). The integer sums are exact, so the order in which the c's are added does not
// matter. The kernels stream: each 32-value vector is unpacked once per row and multiplied at
// once by every token of the pass, and a scale is one pshufb of a register that holds all of a
// super-block's scales, so a pass stays within the 16 ymm registers (unpacking a whole
// super-block first spilled it to the stack).

// pshufb masks: every int16 lane = byte `c` of each 128-bit lane, zero-extended.
inline __m256i byte_to_i16_mask(int c) {
  return _mm256_set1_epi16(static_cast<int16_t>(0x8000 | c));
}

// Q4_K/Q5_K: the 8 six-bit scales (byte j of `scales`) as int16 multipliers of vector c, and the
// 8 mins expanded to the 16 bsums groups (group k has min k/2).
inline __m256i k_scale(__m256i scales, int c) {
  return _mm256_shuffle_epi8(scales, byte_to_i16_mask(c));
}

inline __m256i k_mins_per_group(uint64_t mins) {
  const auto m = [](int k) { return static_cast<int16_t>(0x8000 | (k / 2)); };
  const __m256i mask = _mm256_setr_epi16(m(0), m(1), m(2), m(3), m(4), m(5), m(6), m(7), m(8), m(9),
                                         m(10), m(11), m(12), m(13), m(14), m(15));
  return _mm256_shuffle_epi8(_mm256_set1_epi64x(static_cast<int64_t>(mins)), mask);
}

// [d, dmin, 0, 0] of a Q4_K/Q5_K block: the two halves are adjacent, one conversion for both.
template <class Block>
inline __m128 k_d_dmin(const Block& b) {
  static_assert(offsetof(Block, dmin) == offsetof(Block, d) + 2);
  uint32_t both;
  std::memcpy(&both, &b.d, 4);
  return _mm_cvtph_ps(_mm_cvtsi32_si128(static_cast<int>(both)));
}

// Each format's vectors(block, fn) calls fn(c, q_c, scale_c) for c = 0..7 and returns g;
// d_dmin(block) is [d, dmin] (Q6_K: [d, 0]) as floats.
struct Q4KFormat {
  using Block = BlockQ4_K;
  static constexpr bool kHasMins = true;
  template <class Fn>
  static __m256i vectors(const Block& b, Fn&& fn) {
    const KScalesMins sm = k_scales_mins(b.scales);
    const __m256i scales = _mm256_set1_epi64x(static_cast<int64_t>(sm.scales));
    const __m256i low4 = _mm256_set1_epi8(0x0f);
    for (int c = 0; c < 4; ++c) {
      const __m256i bytes = load256(b.qs + 32 * c);
      fn(2 * c, _mm256_and_si256(bytes, low4), k_scale(scales, 2 * c));
      fn(2 * c + 1, _mm256_and_si256(_mm256_srli_epi16(bytes, 4), low4),
         k_scale(scales, 2 * c + 1));
    }
    return k_mins_per_group(sm.mins);
  }
  static __m128 d_dmin(const Block& b) { return k_d_dmin(b); }
};

struct Q5KFormat {
  using Block = BlockQ5_K;
  static constexpr bool kHasMins = true;
  template <class Fn>
  static __m256i vectors(const Block& b, Fn&& fn) {
    const KScalesMins sm = k_scales_mins(b.scales);
    const __m256i scales = _mm256_set1_epi64x(static_cast<int64_t>(sm.scales));
    const __m256i low4 = _mm256_set1_epi8(0x0f);
    const __m256i bit4 = _mm256_set1_epi8(0x10);
    __m256i qh = load256(b.qh);
    for (int c = 0; c < 4; ++c) {
      const __m256i bytes = load256(b.qs + 32 * c);
      // Bits 0 / 1 of qh (shifted right by 2c) are the 5th bits of the low / high nibbles; a
      // 16-bit shift left by 4 / 3 moves each byte's bit to its bit 4 without crossing bytes.
      const __m256i h0 = _mm256_and_si256(_mm256_slli_epi16(qh, 4), bit4);
      const __m256i h1 = _mm256_and_si256(_mm256_slli_epi16(qh, 3), bit4);
      fn(2 * c, _mm256_or_si256(_mm256_and_si256(bytes, low4), h0), k_scale(scales, 2 * c));
      fn(2 * c + 1, _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(bytes, 4), low4), h1),
         k_scale(scales, 2 * c + 1));
      qh = _mm256_srli_epi16(qh, 2);
    }
    return k_mins_per_group(sm.mins);
  }
  static __m128 d_dmin(const Block& b) { return k_d_dmin(b); }
};

// Q6_K: signed scales per 16 values, so vector c takes scale 2c in its low and 2c+1 in its high
// 128-bit lane; `pair` holds scales 0..7 (c < 4) or 8..15 (c >= 4) in both lanes as int16.
inline __m256i q6_scale(__m256i pair, int c) {
  const int k = c % 4;
  const auto lanes = [](int lo_byte) { return static_cast<int16_t>(lo_byte | (lo_byte + 1) << 8); };
  const __m256i mask =
      _mm256_set_m128i(_mm_set1_epi16(lanes(4 * k + 2)), _mm_set1_epi16(lanes(4 * k)));
  return _mm256_shuffle_epi8(pair, mask);
}

struct Q6KFormat {
  using Block = BlockQ6_K;
  static constexpr bool kHasMins = false;
  template <class Fn>
  static __m256i vectors(const Block& b, Fn&& fn) {
    const __m256i low4 = _mm256_set1_epi8(0x0f);
    const __m256i two = _mm256_set1_epi8(0x30);
    const __m256i sc16 =
        _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b.scales)));
    for (int h = 0; h < 2; ++h) {
      // Two calls, not one with a computed immediate: the operand must be a constant for clang.
      const __m256i pair =
          h == 0 ? _mm256_permute4x64_epi64(sc16, 0x44) : _mm256_permute4x64_epi64(sc16, 0xee);
      const __m256i ql0 = load256(b.ql + 64 * h);
      const __m256i ql1 = load256(b.ql + 64 * h + 32);
      const __m256i qh = load256(b.qh + 32 * h);
      fn(4 * h + 0,
         _mm256_or_si256(_mm256_and_si256(ql0, low4),
                         _mm256_and_si256(_mm256_slli_epi16(qh, 4), two)),
         q6_scale(pair, 4 * h + 0));
      fn(4 * h + 1,
         _mm256_or_si256(_mm256_and_si256(ql1, low4),
                         _mm256_and_si256(_mm256_slli_epi16(qh, 2), two)),
         q6_scale(pair, 4 * h + 1));
      fn(4 * h + 2,
         _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), low4),
                         _mm256_and_si256(qh, two)),
         q6_scale(pair, 4 * h + 2));
      fn(4 * h + 3,
         _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), low4),
                         _mm256_and_si256(_mm256_srli_epi16(qh, 2), two)),
         q6_scale(pair, 4 * h + 3));
    }
    return sc16;
  }
  static __m128 d_dmin(const Block& b) { return _mm_cvtph_ps(_mm_cvtsi32_si128(b.d)); }
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
    for (int64_t b = 0; b < nb; ++b) {
      for (int i = 0; i < RB; ++i) {
        const Block& wb = w[i][b];
        prefetch_rows_ahead(&wb, t.w_stride, sizeof(Block));
        __m256i sumi[TB];
        for (auto& s : sumi) s = _mm256_setzero_si256();
        const __m256i g = F::vectors(wb, [&](int c, __m256i q, __m256i scale) {
          for (int j = 0; j < TB; ++j) {
            const __m256i p16 = _mm256_maddubs_epi16(q, load256(x[j][b].qs + 32 * c));
            sumi[j] = _mm256_add_epi32(sumi[j], _mm256_madd_epi16(p16, scale));
          }
        });
        const __m128 d_dmin = F::d_dmin(wb);
        for (int j = 0; j < TB; ++j) {
          const BlockQ8_K& xb = x[j][b];
          const __m256i group = _mm256_madd_epi16(load256(xb.bsums), g);
          const __m128 scaled = _mm_mul_ps(d_dmin, _mm_set1_ps(xb.d));  // d·dx, dmin·dx
          const __m256 d_dx = _mm256_broadcastss_ps(scaled);
          if constexpr (F::kHasMins) {
            const __m256 dmin_dx = _mm256_broadcastss_ps(_mm_movehdup_ps(scaled));
            acc[i][j] = _mm256_fmadd_ps(d_dx, _mm256_cvtepi32_ps(sumi[j]), acc[i][j]);
            acc[i][j] = _mm256_fnmadd_ps(dmin_dx, _mm256_cvtepi32_ps(group), acc[i][j]);
          } else {
            const __m256i s = _mm256_sub_epi32(sumi[j], _mm256_slli_epi32(group, 5));
            acc[i][j] = _mm256_fmadd_ps(d_dx, _mm256_cvtepi32_ps(s), acc[i][j]);
          }
        }
      }
    }
    for (int i = 0; i < RB; ++i) {
      for (int j = 0; j < TB; ++j) t.y[(t0 + j) * t.y_stride + r0 + i] = hsum(acc[i][j]);
    }
  }
};

// ---- Float formats: 8 lanes of f32 products, f32 accumulation, scalar tail.

struct F32Load {
  using Elem = float;
  static __m256 load8(const float* p) { return _mm256_loadu_ps(p); }
  static float one(const float* p) { return *p; }
};

struct F16Load {
  using Elem = uint16_t;
  static __m256 load8(const uint16_t* p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
  static float one(const uint16_t* p) { return half(*p); }
};

struct BF16Load {
  using Elem = uint16_t;
  static __m256 load8(const uint16_t* p) {
    const __m256i wide =
        _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16));
  }
  static float one(const uint16_t* p) { return bf16_to_fp32(*p); }
};

template <class L>
struct FloatKernel {
  template <int RB, int TB>
  static void run(const DotTile& t, int64_t r0, int64_t t0) {
    using E = typename L::Elem;
    const E* w[RB];
    const E* x[TB];
    for (int i = 0; i < RB; ++i) w[i] = reinterpret_cast<const E*>(t.w + (r0 + i) * t.w_stride);
    for (int j = 0; j < TB; ++j) x[j] = reinterpret_cast<const E*>(t.x + (t0 + j) * t.x_stride);
    __m256 acc[RB][TB];
    for (auto& row : acc) {
      for (auto& a : row) a = _mm256_setzero_ps();
    }
    int64_t k = 0;
    for (; k + 8 <= t.cols; k += 8) {
      __m256 wv[RB];
      for (int i = 0; i < RB; ++i) {
        if (k % 16 == 0) prefetch_rows_ahead(w[i] + k, t.w_stride, 1);
        wv[i] = L::load8(w[i] + k);
      }
      for (int j = 0; j < TB; ++j) {
        const __m256 xv = L::load8(x[j] + k);
        for (int i = 0; i < RB; ++i) acc[i][j] = _mm256_fmadd_ps(wv[i], xv, acc[i][j]);
      }
    }
    for (int i = 0; i < RB; ++i) {
      for (int j = 0; j < TB; ++j) {
        float sum = hsum(acc[i][j]);
        for (int64_t kk = k; kk < t.cols; ++kk) sum += L::one(w[i] + kk) * L::one(x[j] + kk);
        t.y[(t0 + j) * t.y_stride + r0 + i] = sum;
      }
    }
  }
};

// Decode (one token): a few rows at once share the activation loads. Prefill: row x token tiles,
// the tokens left over in one pass. The K-quants stream one row at a time: a pass holds a row's
// vector, its scale and one accumulator pair per token; eight tokens per pass share each
// unpacked vector (0.84-0.92x the CPU time of four on one expert of the realistic 64-expert
// Q4_K model at 5-32 tokens, bench/kernels/README.md).
template <class K, int kDecodeRows, int kRows, int kTokens>
void dot_tile(const DotTile& t) {
  if (t.n_x == 1) {
    drive_tile<K, kDecodeRows, 1>(t);
  } else {
    drive_tile<K, kRows, kTokens, /*kRestTogether=*/true>(t);
  }
}

DotTileFn avx2_dot_tile(GgmlType type) {
  switch (type) {
    case GgmlType::F32:
      return dot_tile<FloatKernel<F32Load>, 4, 4, 2>;
    case GgmlType::F16:
      return dot_tile<FloatKernel<F16Load>, 4, 4, 2>;
    case GgmlType::BF16:
      return dot_tile<FloatKernel<BF16Load>, 4, 4, 2>;
    case GgmlType::Q8_0:
      return SignedQ8Kernel<Q8_0Format>::tile;
    case GgmlType::Q4_0:
      return SignedQ8Kernel<Q4_0Format>::tile;
    case GgmlType::Q5_0:
      return SignedQ8Kernel<Q5_0Format>::tile;
    case GgmlType::MXFP4:
      return SignedQ8Kernel<Mxfp4Format>::tile;
    case GgmlType::Q4_1:
      return dot_tile<MinQ8Kernel<Q4_1Format>, 4, 4, 2>;
    case GgmlType::Q5_1:
      return dot_tile<MinQ8Kernel<Q5_1Format>, 4, 4, 2>;
    case GgmlType::Q4_K:
      return dot_tile<KQuantKernel<Q4KFormat>, 1, 1, 8>;
    case GgmlType::Q5_K:
      return dot_tile<KQuantKernel<Q5KFormat>, 1, 1, 8>;
    case GgmlType::Q6_K:
      return dot_tile<KQuantKernel<Q6KFormat>, 1, 1, 8>;
    default:
      return nullptr;
  }
}

void to_f16(const float* x, uint16_t* out, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), h);
  }
  for (; i < n; ++i) out[i] = fp32_to_fp16(x[i]);
}

// Round to nearest even on the upper half; NaNs keep their top bits with the quiet bit set.
void to_bf16(const float* x, uint16_t* out, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i);
    const __m256i bits = _mm256_castps_si256(v);
    const __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(bits, 16), _mm256_set1_epi32(1));
    const __m256i rounded = _mm256_srli_epi32(
        _mm256_add_epi32(bits, _mm256_add_epi32(lsb, _mm256_set1_epi32(0x7fff))), 16);
    const __m256i quiet = _mm256_or_si256(_mm256_srli_epi32(bits, 16), _mm256_set1_epi32(0x40));
    const __m256i nan = _mm256_castps_si256(_mm256_cmp_ps(v, v, _CMP_UNORD_Q));
    const __m256i r = _mm256_blendv_epi8(rounded, quiet, nan);
    // Pack 8 x u32 (values < 2^16) to 8 x u16.
    const __m128i packed =
        _mm_packus_epi32(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), packed);
  }
  for (; i < n; ++i) out[i] = fp32_to_bf16(x[i]);
}

// Activation quantizers, bit-identical to quantize_row_activations (see avx512.cpp).

inline __m256 abs8(__m256 v) {
  return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), v);
}

inline float hmax(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

inline int hsum_i32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(1, 0, 3, 2)));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
  return _mm_cvtsi128_si32(s);
}

// 32 int32 (four vectors, values in int8 range) -> 32 int8 in order.
inline __m256i pack_32(__m256i a, __m256i b, __m256i c, __m256i d) {
  const __m256i ab = _mm256_packs_epi32(a, b);  // 128-bit lanes interleave: fixed below
  const __m256i cd = _mm256_packs_epi32(c, d);
  const __m256i abcd = _mm256_packs_epi16(ab, cd);
  return _mm256_permutevar8x32_epi32(abcd, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

template <bool kWithSum>
void quantize_q8_blocks(const float* x, std::byte* out, int64_t n) {
  using Block = std::conditional_t<kWithSum, BlockQ8_1, BlockQ8_0>;
  for (int64_t b = 0; b < n / 32; ++b, x += 32, out += sizeof(Block)) {
    __m256 v[4];
    __m256 vmax = _mm256_setzero_ps();
    for (int k = 0; k < 4; ++k) {
      v[k] = _mm256_loadu_ps(x + 8 * k);
      vmax = _mm256_max_ps(vmax, abs8(v[k]));
    }
    const float amax = hmax(vmax);
    const float d = amax / 127.0f;
    const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
    __m256i q[4];
    for (int k = 0; k < 4; ++k) q[k] = _mm256_cvtps_epi32(_mm256_mul_ps(v[k], _mm256_set1_ps(id)));
    Block block;
    block.d = fp32_to_fp16(d);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(block.qs), pack_32(q[0], q[1], q[2], q[3]));
    if constexpr (kWithSum) {
      const int sum =
          hsum_i32(_mm256_add_epi32(_mm256_add_epi32(q[0], q[1]), _mm256_add_epi32(q[2], q[3])));
      block.s = fp32_to_fp16(d * static_cast<float>(sum));
    }
    std::memcpy(out, &block, sizeof(block));
  }
}

void to_q8_0(const float* x, std::byte* out, int64_t n) {
  quantize_q8_blocks<false>(x, out, n);
}
void to_q8_1(const float* x, std::byte* out, int64_t n) {
  quantize_q8_blocks<true>(x, out, n);
}

void to_q8_k(const float* x, std::byte* out, int64_t n) {
  for (int64_t b = 0; b < n / kQK_K; ++b, x += kQK_K, out += sizeof(BlockQ8_K)) {
    __m256 vmax = _mm256_setzero_ps();
    for (int k = 0; k < 32; ++k) vmax = _mm256_max_ps(vmax, abs8(_mm256_loadu_ps(x + 8 * k)));
    const float amax = hmax(vmax);
    BlockQ8_K block{};
    if (amax != 0.0f) {
      int first = 0;  // the first value with |x| == amax gives the sign
      while (std::fabs(x[first]) != amax) ++first;
      const float iscale = -127.0f / x[first];
      for (int g = 0; g < 8; ++g) {  // 32 values per step, two bsums groups
        __m256i q[4];
        for (int k = 0; k < 4; ++k) {
          q[k] = _mm256_cvtps_epi32(
              _mm256_mul_ps(_mm256_loadu_ps(x + 32 * g + 8 * k), _mm256_set1_ps(iscale)));
          q[k] = _mm256_min_epi32(q[k], _mm256_set1_epi32(127));
        }
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(block.qs + 32 * g),
                            pack_32(q[0], q[1], q[2], q[3]));
        block.bsums[2 * g] = static_cast<int16_t>(hsum_i32(_mm256_add_epi32(q[0], q[1])));
        block.bsums[2 * g + 1] = static_cast<int16_t>(hsum_i32(_mm256_add_epi32(q[2], q[3])));
      }
      block.d = 1.0f / iscale;
    }
    std::memcpy(out, &block, sizeof(block));
  }
}

float dot_f32(const float* a, const float* b, int64_t n) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), acc1);
  }
  for (; i + 8 <= n; i += 8) {
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
  }
  float sum = hsum(_mm256_add_ps(acc0, acc1));
  for (; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

void axpy(float a, const float* x, float* y, int64_t n) {
  const __m256 av = _mm256_set1_ps(a);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(y + i, _mm256_fmadd_ps(av, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
  }
  for (; i < n; ++i) y[i] += a * x[i];
}

}  // namespace
}  // namespace moescope::kernels

#include "engine/tensor/kernels/target_end.inc"

namespace moescope::kernels {
const KernelSet& avx2_kernels() {
  static const KernelSet set{avx2_dot_tile, to_f16,  to_bf16, to_q8_0,
                             to_q8_1,       to_q8_k, dot_f32, axpy};
  return set;
}
}  // namespace moescope::kernels

#else  // not x86

namespace moescope::kernels {
const KernelSet& avx2_kernels() {
  static const KernelSet set{[](GgmlType) -> DotTileFn { return nullptr; },
                             nullptr,
                             nullptr,
                             nullptr,
                             nullptr,
                             nullptr,
                             nullptr,
                             nullptr};
  return set;
}
}  // namespace moescope::kernels

#endif
