#include "engine/model/linear.h"

#include <algorithm>

#include "engine/common/error.h"
#include "engine/tensor/dequantize.h"
#include "engine/tensor/matmul_rowwise.h"

namespace moescope {

void matmul_rows(const WeightView& w, const float* x, int64_t n, float* y, const ForwardEnv& env) {
  const auto& seqs = env.sequences;
  const bool whole_call = seqs.size() > 1 && n == seqs.back().row0 + seqs.back().n;
  if (!whole_call || matmul_batch_invariant(w.type, n, env.precision)) {
    matmul(w, x, n, y, env.pool, env.precision);
    return;
  }
  // When every sequence alone takes the dot kernels (decode tokens, short chunks), all rows go
  // through them together; otherwise one product per sequence.
  const bool rowwise = std::all_of(seqs.begin(), seqs.end(), [&](const SequenceRows& s) {
    return matmul_batch_invariant(w.type, s.n, env.precision);
  });
  if (rowwise) {
    matmul_rowwise(w, x, n, y, env.pool, env.precision);
    return;
  }
  for (const SequenceRows& s : seqs) {
    matmul(w, x + s.row0 * w.cols, s.n, y + s.row0 * w.rows, env.pool, env.precision);
  }
}

void linear(const Linear& l, const float* x, int64_t n, float* y, const ForwardEnv& env) {
  matmul_rows(l.w, x, n, y, env);
  if (l.bias.empty()) return;
  for (int64_t t = 0; t < n; ++t) {
    float* yt = y + t * l.rows();
    for (int64_t i = 0; i < l.rows(); ++i) yt[i] += l.bias[i];
  }
}

void matmul_bias(const WeightView& w, const WeightView& bias, const float* x, int64_t n, float* y,
                 const ForwardEnv& env) {
  matmul(w, x, n, y, env.pool, env.precision);
  add_bias(bias, w.rows, y, n, env);
}

void add_bias(const WeightView& bias, int64_t rows, float* y, int64_t n, const ForwardEnv& env) {
  if (bias.data == nullptr) return;
  if (bias.cols != rows) fail("bias of {} values for a projection to {}", bias.cols, rows);
  float* b = env.ws.get(kBiasRow, static_cast<size_t>(bias.cols));
  dequantize_row(bias.type, bias.data, b, bias.cols);
  for (int64_t t = 0; t < n; ++t) {
    float* yt = y + t * rows;
    for (int64_t i = 0; i < rows; ++i) yt[i] += b[i];
  }
}

void get_rows(const WeightView& table, std::span<const int32_t> ids, float* out) {
  for (size_t t = 0; t < ids.size(); ++t) {
    const int32_t id = ids[t];
    if (id < 0 || id >= table.rows) {
      fail("token id {} is out of range (the vocabulary has {} tokens)", id, table.rows);
    }
    dequantize_row(table.type, table.data + static_cast<size_t>(id) * table.row_bytes,
                   out + t * table.cols, table.cols);
  }
}

std::vector<float> dequantize_vector(const WeightView& row) {
  std::vector<float> out(static_cast<size_t>(row.cols));
  dequantize_row(row.type, row.data, out.data(), row.cols);
  return out;
}

}  // namespace moescope
