#pragma once
// Products of activations with weight matrices kept in their stored (possibly quantized) format.
//
// Fast (default) computes what llama.cpp's CPU backend computes: each activation row is first
// converted to the weight's vec_dot_type (F16/BF16 rounding, or Q8_0/Q8_1/Q8_K blocks), then
// dotted with the weight rows using integer block sums where the format allows. Exact dequantizes
// the weights to f32 and keeps the activations in f32; it is the reference for --exact and for the
// tests of the fast kernels.
#include <cstddef>
#include <cstdint>

#include "engine/tensor/ggml_type.h"
#include "engine/tensor/thread_pool.h"

namespace moescope {

// A 2-D weight W[rows][cols] in ggml's layout (ne0 = cols, contiguous within a row); rows are
// row_bytes apart, which may exceed the packed size (e.g. a slice of a larger tensor).
struct WeightView {
  GgmlType type;
  const std::byte* data;
  int64_t rows;
  int64_t cols;
  size_t row_bytes;
};

enum class MatmulPrecision { Fast, Exact };

// True when matmul accepts weights of this type.
bool matmul_supports(GgmlType type);

// The format activations are converted to before the fast dot product with weights of `type`
// (F32, F16, BF16, Q8_0, Q8_1 or Q8_K).
GgmlType vec_dot_type(GgmlType type);

// One activation row of n values (a multiple of the format's block size) in vec_type, as the
// fast path converts it: F16/BF16 rounding, or quantize_row_activations for Q8_0/Q8_1/Q8_K
// (bit-identical, with the active SIMD level). `out` holds the format's row bytes.
void convert_activation_row(GgmlType vec_type, const float* x, std::byte* out, int64_t n);

// y[n_tokens][rows] = x[n_tokens][cols] · W^T. Throws moescope::Error when the type is not
// supported or the view is inconsistent (cols not a multiple of the block size, row_bytes too
// small, rows not aligned for the type: 4 bytes for F32, 2 for the others but MXFP4). Parallel
// over the pool unless called from inside one of its loops. Each output element is computed the
// same way whatever the thread count; with the dot kernels (decode, and batches of quantized or
// half-precision weights) also whatever the batch size.
void matmul(const WeightView& w, const float* x, int64_t n_tokens, float* y, ThreadPool& pool,
            MatmulPrecision precision = MatmulPrecision::Fast);

// How batched products (n_tokens > 1) are computed. Auto follows the measurements in
// docs/kernels.md; the others exist for tests and benchmarks. Process-wide, not for use while
// matmuls run.
enum class BatchMethod {
  Auto,
  DotKernels,    // the integer / f16 dot kernels over row x token tiles (same as decode)
  DequantSgemm,  // weight tiles dequantized to f32, activations rounded through their
                 // vec_dot_type, products by OpenBLAS sgemm
};
void set_batch_method(BatchMethod method);

// True when matmul over n_tokens rows computes every row exactly as a call with that row alone
// would (the dot kernels); false when the batch goes through sgemm, whose rounding may depend on
// the batch. The batched engine splits such products per sequence, so that a request's results
// do not depend on what it is batched with.
bool matmul_batch_invariant(GgmlType type, int64_t n_tokens, MatmulPrecision precision);

// Dot product of two f32 vectors with the active SIMD level (f32 accumulation).
float dot_f32(const float* a, const float* b, int64_t n);

// y[i] += a * x[i].
void axpy_f32(float a, const float* x, float* y, int64_t n);

}  // namespace moescope
