#pragma once
// Internal interface between matmul.cpp and the per-ISA kernel files. Each file is compiled for
// baseline x86-64; its functions carry target attributes and are only called after cpu_features
// said the CPU has them.
#include <cstddef>
#include <cstdint>

#include "engine/tensor/ggml_type.h"

namespace moescope::kernels {

// A block of dot products: y[t * y_stride + r] = W_r · X_t for r < n_rows, t < n_x. W rows are in
// the weight's stored format, X rows already in its vec_dot_type.
struct DotTile {
  int64_t cols;
  const std::byte* w;
  size_t w_stride;
  int64_t n_rows;
  const std::byte* x;
  size_t x_stride;
  int64_t n_x;
  float* y;
  int64_t y_stride;
};

using DotTileFn = void (*)(const DotTile&);
// f32 -> F16 or BF16 activation row.
using ConvertRowFn = void (*)(const float* x, uint16_t* out, int64_t n);
// f32 -> Q8_0 / Q8_1 / Q8_K activation row, bit-identical to quantize_row_activations.
using QuantizeRowFn = void (*)(const float* x, std::byte* out, int64_t n);
using DotF32Fn = float (*)(const float* a, const float* b, int64_t n);
using AxpyF32Fn = void (*)(float a, const float* x, float* y, int64_t n);

// Kernels of one SIMD level; a null entry means "use the level below".
struct KernelSet {
  DotTileFn (*dot_tile)(GgmlType weight_type);
  ConvertRowFn to_f16;
  ConvertRowFn to_bf16;
  QuantizeRowFn to_q8_0;
  QuantizeRowFn to_q8_1;
  QuantizeRowFn to_q8_k;
  DotF32Fn dot_f32;
  AxpyF32Fn axpy_f32;
};

const KernelSet& scalar_kernels();
const KernelSet& avx2_kernels();
const KernelSet& avx512_kernels();

// The integer-format kernels of the AVX-512 level; they need VNNI (avx512_kernels() asks for them
// only when the CPU has it).
DotTileFn avx512_vnni_dot_tile(GgmlType weight_type);
// Q4_K's AVX-512 VNNI kernel (avx512_vnni_q4k.cpp): rows transposed 16 at a time for batches.
// Defined on x86 only, where avx512_vnni_dot_tile calls it.
DotTileFn avx512_vnni_q4_k_dot_tile();
// MXFP4's (avx512_vnni_mxfp4.cpp), built the same way; x86 only too.
DotTileFn avx512_vnni_mxfp4_dot_tile();

}  // namespace moescope::kernels
