#pragma once
// matmul through the dot kernels whatever the batch size: every output row is computed exactly
// as matmul computes that row alone (a decode step). The batched engine uses it for the rows of
// many decoding sequences, where matmul would switch to sgemm and round differently.
#include <cstdint>

#include "engine/tensor/matmul.h"

namespace moescope {

void matmul_rowwise(const WeightView& w, const float* x, int64_t n_tokens, float* y,
                    ThreadPool& pool, MatmulPrecision precision = MatmulPrecision::Fast);

}  // namespace moescope
