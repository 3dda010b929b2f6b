// AVX-512 (F, BW, VL, DQ) kernels for float weights and the f32 helpers, 16 lanes per vector.
// The integer formats need VNNI and live in avx512_vnni.cpp; without VNNI they fall back to the
// AVX2 kernels. The file is compiled for its target (pragma below) and only called after
// cpu_features reported AVX-512.
#include "engine/tensor/kernels/kernels.h"

#include "engine/tensor/cpu_features.h"

#if defined(__x86_64__) || defined(__i386__)

// Every header comes before the target pragma (target_begin.inc): inline functions defined in
// headers must be compiled for baseline x86-64 here too, or the linker could keep this file's copy
// for all callers.
#include <cstring>
#include <type_traits>

#include "engine/tensor/blocks.h"
#include "engine/tensor/fp16.h"
#include "engine/tensor/kernels/x86_common.h"

#define MOESCOPE_KERNEL_TARGET "avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,f16c"
#include "engine/tensor/kernels/target_begin.inc"

namespace moescope::kernels {
namespace {

struct F32Load {
  using Elem = float;
  static __m512 load16(const float* p) { return _mm512_loadu_ps(p); }
  static float one(const float* p) { return *p; }
};

struct F16Load {
  using Elem = uint16_t;
  static __m512 load16(const uint16_t* p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  }
  static float one(const uint16_t* p) { return fp16_to_fp32(*p); }
};

struct BF16Load {
  using Elem = uint16_t;
  static __m512 load16(const uint16_t* p) {
    const __m512i wide =
        _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
    return _mm512_castsi512_ps(_mm512_slli_epi32(wide, 16));
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
    __m512 acc[RB][TB];
    for (auto& row : acc) {
      for (auto& a : row) a = _mm512_setzero_ps();
    }
    int64_t k = 0;
    for (; k + 16 <= t.cols; k += 16) {
      __m512 wv[RB];
      for (int i = 0; i < RB; ++i) {
        _mm_prefetch(reinterpret_cast<const char*>(w[i] + k) + 512, _MM_HINT_T0);
        wv[i] = L::load16(w[i] + k);
      }
      for (int j = 0; j < TB; ++j) {
        const __m512 xv = L::load16(x[j] + k);
        for (int i = 0; i < RB; ++i) acc[i][j] = _mm512_fmadd_ps(wv[i], xv, acc[i][j]);
      }
    }
    for (int i = 0; i < RB; ++i) {
      for (int j = 0; j < TB; ++j) {
        float sum = _mm512_reduce_add_ps(acc[i][j]);
        for (int64_t kk = k; kk < t.cols; ++kk) sum += L::one(w[i] + kk) * L::one(x[j] + kk);
        t.y[(t0 + j) * t.y_stride + r0 + i] = sum;
      }
    }
  }
};

template <class K>
void dot_tile(const DotTile& t) {
  if (t.n_x == 1) {
    drive_tile<K, 4, 1>(t);
  } else {
    drive_tile<K, 4, 4>(t);
  }
}

DotTileFn float_dot_tile(GgmlType type) {
  switch (type) {
    case GgmlType::F32:
      return dot_tile<FloatKernel<F32Load>>;
    case GgmlType::F16:
      return dot_tile<FloatKernel<F16Load>>;
    case GgmlType::BF16:
      return dot_tile<FloatKernel<BF16Load>>;
    default:
      return nullptr;
  }
}

void to_f16(const float* x, uint16_t* out, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256i h = _mm512_cvtps_ph(_mm512_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), h);
  }
  for (; i < n; ++i) out[i] = fp32_to_fp16(x[i]);
}

// Round to nearest even on the upper half; NaNs keep their top bits with the quiet bit set.
void to_bf16(const float* x, uint16_t* out, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 v = _mm512_loadu_ps(x + i);
    const __m512i bits = _mm512_castps_si512(v);
    const __m512i upper = _mm512_srli_epi32(bits, 16);
    const __m512i lsb = _mm512_and_si512(upper, _mm512_set1_epi32(1));
    __m512i r = _mm512_srli_epi32(
        _mm512_add_epi32(bits, _mm512_add_epi32(lsb, _mm512_set1_epi32(0x7fff))), 16);
    const __mmask16 nan = _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
    r = _mm512_mask_or_epi32(r, nan, upper, _mm512_set1_epi32(0x40));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), _mm512_cvtepi32_epi16(r));
  }
  for (; i < n; ++i) out[i] = fp32_to_bf16(x[i]);
}

// Activation quantizers, bit-identical to quantize_row_activations (ggml's x86 forms): Q8_0/Q8_1
// scale by 127 / amax and round halves to even (the default MXCSR mode of vcvtps2dq); Q8_K maps
// the first value of largest magnitude to -127.

template <bool kWithSum>
void quantize_q8_blocks(const float* x, std::byte* out, int64_t n) {
  using Block = std::conditional_t<kWithSum, BlockQ8_1, BlockQ8_0>;
  for (int64_t b = 0; b < n / 32; ++b, x += 32, out += sizeof(Block)) {
    const __m512 v0 = _mm512_loadu_ps(x), v1 = _mm512_loadu_ps(x + 16);
    const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1)));
    const float d = amax / 127.0f;
    const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
    const __m512i q0 = _mm512_cvtps_epi32(_mm512_mul_ps(v0, _mm512_set1_ps(id)));
    const __m512i q1 = _mm512_cvtps_epi32(_mm512_mul_ps(v1, _mm512_set1_ps(id)));
    Block block;
    block.d = fp32_to_fp16(d);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(block.qs), _mm512_cvtsepi32_epi8(q0));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(block.qs + 16), _mm512_cvtsepi32_epi8(q1));
    if constexpr (kWithSum) {
      const int sum = _mm512_reduce_add_epi32(_mm512_add_epi32(q0, q1));
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
    __m512 vmax = _mm512_setzero_ps();
    for (int k = 0; k < 16; ++k)
      vmax = _mm512_max_ps(vmax, _mm512_abs_ps(_mm512_loadu_ps(x + 16 * k)));
    const float amax = _mm512_reduce_max_ps(vmax);
    BlockQ8_K block{};
    if (amax != 0.0f) {
      int first = 0;  // the first value with |x| == amax gives the sign
      for (int k = 0; k < 16; ++k) {
        const __mmask16 hit = _mm512_cmp_ps_mask(_mm512_abs_ps(_mm512_loadu_ps(x + 16 * k)),
                                                 _mm512_set1_ps(amax), _CMP_EQ_OQ);
        if (hit != 0) {
          first = 16 * k + __builtin_ctz(hit);
          break;
        }
      }
      const float iscale = -127.0f / x[first];
      for (int k = 0; k < 16; ++k) {
        __m512i q =
            _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_loadu_ps(x + 16 * k), _mm512_set1_ps(iscale)));
        q = _mm512_min_epi32(q, _mm512_set1_epi32(127));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(block.qs + 16 * k), _mm512_cvtsepi32_epi8(q));
        block.bsums[k] = static_cast<int16_t>(_mm512_reduce_add_epi32(q));
      }
      block.d = 1.0f / iscale;
    }
    std::memcpy(out, &block, sizeof(block));
  }
}

float dot_f32(const float* a, const float* b, int64_t n) {
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), acc0);
    acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), acc1);
  }
  if (i < n) {  // the rest (< 32) under masks
    const int64_t left = n - i;
    const __mmask16 m0 = left >= 16 ? __mmask16(0xffff) : __mmask16((1u << left) - 1);
    acc0 =
        _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m0, a + i), _mm512_maskz_loadu_ps(m0, b + i), acc0);
    if (left > 16) {
      const __mmask16 m1 = __mmask16((1u << (left - 16)) - 1);
      acc1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m1, a + i + 16),
                             _mm512_maskz_loadu_ps(m1, b + i + 16), acc1);
    }
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
}

void axpy(float a, const float* x, float* y, int64_t n) {
  const __m512 av = _mm512_set1_ps(a);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    _mm512_storeu_ps(y + i, _mm512_fmadd_ps(av, _mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i)));
  }
  if (i < n) {
    const __mmask16 m = __mmask16((1u << (n - i)) - 1);
    const __m512 r =
        _mm512_fmadd_ps(av, _mm512_maskz_loadu_ps(m, x + i), _mm512_maskz_loadu_ps(m, y + i));
    _mm512_mask_storeu_ps(y + i, m, r);
  }
}

}  // namespace
}  // namespace moescope::kernels

#include "engine/tensor/kernels/target_end.inc"

namespace moescope::kernels {
namespace {
DotTileFn avx512_dot_tile(GgmlType type) {
  if (DotTileFn fn = float_dot_tile(type)) return fn;
  return cpu_has_avx512_vnni() ? avx512_vnni_dot_tile(type) : nullptr;
}
}  // namespace

const KernelSet& avx512_kernels() {
  static const KernelSet set{avx512_dot_tile, to_f16,  to_bf16, to_q8_0,
                             to_q8_1,         to_q8_k, dot_f32, axpy};
  return set;
}
}  // namespace moescope::kernels

#else  // not x86

namespace moescope::kernels {
const KernelSet& avx512_kernels() {
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
