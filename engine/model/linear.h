#pragma once
// Projections (y = W x + b), embedding look-ups and the environment every forward step runs in.
#include <cstdint>
#include <span>
#include <vector>

#include "engine/model/forward_env.h"
#include "engine/tensor/matmul.h"

namespace moescope {

// A weight matrix [rows][cols] and its optional bias [rows] (kept as f32).
struct Linear {
  WeightView w{};
  std::vector<float> bias;

  bool present() const { return w.data != nullptr; }
  int64_t rows() const { return w.rows; }
  int64_t cols() const { return w.cols; }
};

// y[n][rows] = x[n][cols] · Wᵀ. When x holds every row of a batched call (env.sequences) and the
// kernel's rounding depends on the batch size, one product per sequence, as each runs alone.
void matmul_rows(const WeightView& w, const float* x, int64_t n, float* y, const ForwardEnv& env);

// y[n][rows] = x[n][cols] · Wᵀ + bias (matmul_rows).
void linear(const Linear& l, const float* x, int64_t n, float* y, const ForwardEnv& env);

// y[n][rows] = x[n][cols] · Wᵀ (+ bias row, which may be in any dequantizable format).
void matmul_bias(const WeightView& w, const WeightView& bias, const float* x, int64_t n, float* y,
                 const ForwardEnv& env);

// y[t][rows] += bias for t < n, the bias row in any dequantizable format (absent: no-op).
void add_bias(const WeightView& bias, int64_t rows, float* y, int64_t n, const ForwardEnv& env);

// out[t][cols] = table[ids[t]] dequantized exactly (ggml_get_rows). Throws for ids out of range.
void get_rows(const WeightView& table, std::span<const int32_t> ids, float* out);

// The first n values of a one-row tensor (bias, norm weight) as f32.
std::vector<float> dequantize_vector(const WeightView& row);

}  // namespace moescope
