#include "engine/model/attention.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <mutex>
#include <vector>

#include "engine/model/softmax.h"

namespace moescope {
namespace {

// Queries handled together: their scores against a shared key range are one small GEMM, like
// ggml's K·Q mul_mat, instead of one dot product per (query, key).
constexpr int64_t kQueryBlock = 32;

void single_threaded_blas() {
  // The pool already runs one block per thread; BLAS threads on top would oversubscribe.
  static std::once_flag once;
  std::call_once(once, [] { openblas_set_num_threads(1); });
}

}  // namespace

namespace {

// Queries t0 .. t0 + m - 1 of one sequence against head h's keys: scores, softmax, values.
void attend_block(const AttentionParams& p, const AttentionSeq& s, int64_t q_stride,
                  int64_t out_stride, int64_t h, int64_t t0, std::vector<float>& scores) {
  const int64_t group = p.n_head / p.n_head_kv;
  const int64_t m = std::min(kQueryBlock, s.n_tokens - t0);
  const int64_t kv_head = h / group;
  // The first key a query at `pos` may see.
  auto first_key = [&](int64_t pos) {
    return p.n_swa > 0 ? std::max<int64_t>(0, pos - p.n_swa + 1) : int64_t{0};
  };
  // Keys [lo, hi] cover every query of the block; each row masks what its query may not see.
  const int64_t lo = first_key(s.first_pos + t0);
  const int64_t hi = s.first_pos + t0 + m - 1;
  const int64_t n_keys = hi - lo + 1;
  if (static_cast<int64_t>(scores.size()) < m * n_keys) scores.resize(m * n_keys);
  const float* qh = s.q + t0 * q_stride + h * p.head_dim_k;
  const float* k = s.kv.k + lo * s.kv.k_stride + kv_head * p.head_dim_k;
  const float* v = s.kv.v + lo * s.kv.v_stride + kv_head * p.head_dim_v;

  // scores[i][j] = q_i · k_j
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(m),
              static_cast<int>(n_keys), static_cast<int>(p.head_dim_k), 1.0f, qh,
              static_cast<int>(q_stride), k, static_cast<int>(s.kv.k_stride), 0.0f, scores.data(),
              static_cast<int>(n_keys));

  // Row-wise softmax(scores * scale + mask) with ggml's sink correction.
  for (int64_t i = 0; i < m; ++i) {
    float* row = scores.data() + i * n_keys;
    const int64_t pos = s.first_pos + t0 + i;
    const int64_t j0 = first_key(pos) - lo;
    const int64_t j1 = pos - lo + 1;  // exclusive
    float max = -std::numeric_limits<float>::infinity();
    for (int64_t j = j0; j < j1; ++j) {
      row[j] *= p.kq_scale;
      max = row[j] > max ? row[j] : max;
    }
    float sink_mass = 0.0f;
    if (p.sinks != nullptr) {
      max = std::max(max, p.sinks[h]);
      sink_mass = expf(p.sinks[h] - max);
    }
    softmax_row(row + j0, j1 - j0, max, sink_mass);
    std::fill(row, row + j0, 0.0f);
    std::fill(row + j1, row + n_keys, 0.0f);
  }

  // out[i] = Σ_j p[i][j] v_j
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(m),
              static_cast<int>(p.head_dim_v), static_cast<int>(n_keys), 1.0f, scores.data(),
              static_cast<int>(n_keys), v, static_cast<int>(s.kv.v_stride), 0.0f,
              s.out + t0 * out_stride + h * p.head_dim_v, static_cast<int>(out_stride));
}

}  // namespace

void attention(const AttentionParams& p, const float* q, int64_t q_stride, int64_t n_tokens,
               int64_t first_pos, const KvView& kv, float* out, int64_t out_stride,
               ThreadPool& pool) {
  const AttentionSeq seq{q, n_tokens, first_pos, kv, out};
  attention_batch(p, {&seq, 1}, q_stride, out_stride, pool);
}

void attention_batch(const AttentionParams& p, std::span<const AttentionSeq> seqs, int64_t q_stride,
                     int64_t out_stride, ThreadPool& pool) {
  single_threaded_blas();
  // Tasks: per sequence, n_head × its query blocks; first_task[i] = where sequence i's begin.
  std::vector<int64_t> first_task(seqs.size() + 1, 0);
  for (size_t i = 0; i < seqs.size(); ++i) {
    const int64_t n_blocks = (seqs[i].n_tokens + kQueryBlock - 1) / kQueryBlock;
    first_task[i + 1] = first_task[i] + p.n_head * n_blocks;
  }
  pool.parallel_for(first_task.back(), [&](int64_t begin, int64_t end, int) {
    thread_local std::vector<float> scores;  // [m][n_keys]
    size_t i = 0;
    for (int64_t task = begin; task < end; ++task) {
      while (task >= first_task[i + 1]) ++i;
      const AttentionSeq& s = seqs[i];
      const int64_t n_blocks = (s.n_tokens + kQueryBlock - 1) / kQueryBlock;
      const int64_t local = task - first_task[i];
      attend_block(p, s, q_stride, out_stride, local / n_blocks, (local % n_blocks) * kQueryBlock,
                   scores);
    }
  });
}

}  // namespace moescope
