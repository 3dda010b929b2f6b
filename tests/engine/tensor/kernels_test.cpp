// The matmul kernels against independent double-precision computations built only from the
// formats' reference dequantizers and quantizers (engine/tensor/{de,}quantize.h):
// - Exact: y = dequantize(W) · x.
// - Fast: y = dequantize(W) · dequantize(quantize(x, vec_dot_type)), i.e. ggml's "quantize the
//   activations, then exact integer block math", plus the one place where ggml's math is not a
//   plain dot of dequantized values: Q8_1 carries s = fp16(d·Σq), and Q4_1/Q5_1 dots use that
//   rounded s for the min term.
// Errors are measured against S = Σ|w_j x_j| (the scale of float rounding in any summation order).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "engine/common/error.h"
#include "engine/tensor/blocks.h"
#include "engine/tensor/cpu_features.h"
#include "engine/tensor/dequantize.h"
#include "engine/tensor/fp16.h"
#include "engine/tensor/matmul.h"
#include "engine/tensor/matmul_rowwise.h"
#include "engine/tensor/matvec_group.h"
#include "engine/tensor/quantize.h"

namespace moescope {
namespace {

constexpr GgmlType kWeightTypes[] = {GgmlType::F32,  GgmlType::F16,  GgmlType::BF16,
                                     GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0,
                                     GgmlType::Q5_1, GgmlType::Q8_0, GgmlType::MXFP4,
                                     GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K};

std::vector<SimdLevel> available_levels() {
  std::vector<SimdLevel> levels;
  for (int l = 0; l <= static_cast<int>(detected_simd_level()); ++l) {
    levels.push_back(static_cast<SimdLevel>(l));
  }
  return levels;
}

// Restores the detected level when a test that forces one ends.
struct LevelGuard {
  ~LevelGuard() { set_simd_level(detected_simd_level()); }
};

std::vector<float> random_values(size_t n, uint32_t seed, float scale) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = normal(rng);
  // A few outliers, as real activations have, so block scales vary.
  for (size_t i = 0; i < n; i += 97) v[i] *= 6.0f;
  return v;
}

// A quantized weight matrix with `pad` spare bytes after every row (a strided view).
struct Matrix {
  GgmlType type;
  int64_t rows, cols;
  size_t row_bytes;
  std::vector<std::byte> data;
  std::vector<double> dequantized;  // [rows][cols]

  WeightView view() const { return {type, data.data(), rows, cols, row_bytes}; }
};

Matrix make_matrix(GgmlType type, int64_t rows, int64_t cols, uint32_t seed, size_t pad = 0) {
  Matrix m{type, rows, cols, 0, {}, {}};
  const size_t packed = ggml_row_bytes(ggml_type_traits(type), cols);
  m.row_bytes = packed + pad;
  m.data.assign(m.row_bytes * rows, std::byte{0x5a});
  m.dequantized.resize(rows * cols);
  const std::vector<float> values = random_values(rows * cols, seed, 0.1f);
  std::vector<float> row(cols);
  for (int64_t r = 0; r < rows; ++r) {
    quantize_row(type, values.data() + r * cols, m.data.data() + r * m.row_bytes, cols);
    dequantize_row(type, m.data.data() + r * m.row_bytes, row.data(), cols);
    for (int64_t c = 0; c < cols; ++c) m.dequantized[r * cols + c] = row[c];
  }
  return m;
}

// The per-block m_w of a Q4_1/Q5_1 weight row (0 for every other format).
std::vector<double> block_mins(const Matrix& m, int64_t r) {
  std::vector<double> mins(m.cols / 32, 0.0);
  const std::byte* row = m.data.data() + r * m.row_bytes;
  for (size_t b = 0; b < mins.size(); ++b) {
    uint16_t bits = 0;
    if (m.type == GgmlType::Q4_1) {
      std::memcpy(&bits, row + b * sizeof(BlockQ4_1) + offsetof(BlockQ4_1, m), 2);
    } else if (m.type == GgmlType::Q5_1) {
      std::memcpy(&bits, row + b * sizeof(BlockQ5_1) + offsetof(BlockQ5_1, m), 2);
    } else {
      continue;
    }
    mins[b] = fp16_to_fp32(bits);
  }
  return mins;
}

// Activations as ggml's CPU backend converts them: the x86 forms of Q8_0/Q8_1/Q8_K, plain
// F16/BF16 rounding.
void quantize_activation_reference(GgmlType vt, const float* x, std::byte* out, int64_t n) {
  if (vt == GgmlType::Q8_0 || vt == GgmlType::Q8_1 || vt == GgmlType::Q8_K) {
    quantize_row_activations(vt, x, out, n);
  } else {
    quantize_row(vt, x, out, n);
  }
}

struct Reference {
  std::vector<double> y;      // [n][rows]
  std::vector<double> scale;  // Σ|w x| per output
};

Reference reference(const Matrix& m, const std::vector<float>& x, int64_t n, bool fast) {
  Reference ref{std::vector<double>(n * m.rows), std::vector<double>(n * m.rows)};
  const GgmlType vt = vec_dot_type(m.type);
  const size_t xq_bytes = ggml_row_bytes(ggml_type_traits(vt), m.cols);
  std::vector<std::byte> xq(xq_bytes);
  std::vector<float> xt(m.cols);
  for (int64_t t = 0; t < n; ++t) {
    const float* xrow = x.data() + t * m.cols;
    std::vector<double> s_error(m.cols / 32, 0.0);  // fp16(s) - Σ x̃ per Q8_1 block
    if (fast && vt != GgmlType::F32) {
      quantize_activation_reference(vt, xrow, xq.data(), m.cols);
      dequantize_row(vt, xq.data(), xt.data(), m.cols);
      if (vt == GgmlType::Q8_1) {
        for (size_t b = 0; b < s_error.size(); ++b) {
          BlockQ8_1 blk;
          std::memcpy(&blk, xq.data() + b * sizeof(BlockQ8_1), sizeof(blk));
          double sum = 0;
          for (int j = 0; j < 32; ++j) sum += xt[b * 32 + j];
          s_error[b] = fp16_to_fp32(blk.s) - sum;
        }
      }
    } else {
      std::copy(xrow, xrow + m.cols, xt.begin());
    }
    for (int64_t r = 0; r < m.rows; ++r) {
      double sum = 0, scale = 0;
      for (int64_t c = 0; c < m.cols; ++c) {
        const double p = m.dequantized[r * m.cols + c] * xt[c];
        sum += p;
        scale += std::fabs(p);
      }
      if (vt == GgmlType::Q8_1) {
        const std::vector<double> mins = block_mins(m, r);
        for (size_t b = 0; b < mins.size(); ++b) {
          sum += mins[b] * s_error[b];
          scale += std::fabs(mins[b] * s_error[b]);
        }
      }
      ref.y[t * m.rows + r] = sum;
      ref.scale[t * m.rows + r] = scale;
    }
  }
  return ref;
}

// |y - ref| <= rel * S + tiny, reporting the worst element.
void expect_close(const std::vector<float>& y, const Reference& ref, double rel,
                  const std::string& what) {
  double worst = 0;
  size_t worst_i = 0;
  for (size_t i = 0; i < y.size(); ++i) {
    const double err = std::fabs(y[i] - ref.y[i]) / (ref.scale[i] + 1e-30);
    if (err > worst || std::isnan(y[i])) {
      worst = std::isnan(y[i]) ? INFINITY : err;
      worst_i = i;
    }
  }
  EXPECT_LE(worst, rel) << what << ": worst element " << worst_i << " got " << y[worst_i]
                        << " want " << ref.y[worst_i] << " (scale " << ref.scale[worst_i] << ")";
}

struct Shape {
  int64_t rows, cols, n_tokens;
};

std::string describe(GgmlType type, SimdLevel level, const Shape& s, int threads, MatmulPrecision p,
                     BatchMethod method) {
  return std::string(ggml_type_name(type)) + " " + std::string(simd_level_name(level)) + " " +
         std::to_string(s.rows) + "x" + std::to_string(s.cols) +
         " n=" + std::to_string(s.n_tokens) + " threads=" + std::to_string(threads) +
         (p == MatmulPrecision::Fast ? " fast" : " exact") +
         (method == BatchMethod::DotKernels ? " dot-kernels" : " sgemm");
}

// Restores the automatic batch method when a test that forces one ends.
struct BatchMethodGuard {
  ~BatchMethodGuard() { set_batch_method(BatchMethod::Auto); }
};

// Shapes: odd row counts, a single row, 1 and many tokens, columns a multiple of 256 (K-quants)
// and, where the format allows, just one 32-block.
std::vector<Shape> shapes_for(GgmlType type) {
  const int64_t block = ggml_type_traits(type).block_size;
  // The last crosses the fast path's 64-row and 64-token tiles.
  std::vector<Shape> shapes = {
      {37, 512, 1}, {1, 256, 1}, {67, 256, 5}, {130, 1024, 17}, {70, 256, 133}};
  if (block <= 32) {
    shapes.push_back({5, 32, 3});
    // An odd number of blocks: the one-token kernels pair blocks and finish with a single one.
    shapes.push_back({5, 96, 1});
    shapes.push_back({5, 96, 2});
  }
  if (block == 1) shapes.push_back({9, 7, 2});
  return shapes;
}

TEST(Matmul, EveryTypeLevelAndShapeMatchesReferences) {
  LevelGuard guard;
  BatchMethodGuard method_guard;
  ThreadPool pools[] = {ThreadPool(1), ThreadPool(3)};
  uint32_t seed = 1;
  for (GgmlType type : kWeightTypes) {
    for (const Shape& s : shapes_for(type)) {
      const Matrix m = make_matrix(type, s.rows, s.cols, seed++, s.rows % 2 ? 8 : 0);
      const std::vector<float> x = random_values(s.n_tokens * s.cols, seed++, 1.0f);
      const Reference fast_ref = reference(m, x, s.n_tokens, true);
      const Reference exact_ref = reference(m, x, s.n_tokens, false);
      for (SimdLevel level : available_levels()) {
        set_simd_level(level);
        for (ThreadPool& pool : pools) {
          for (MatmulPrecision p : {MatmulPrecision::Fast, MatmulPrecision::Exact}) {
            for (BatchMethod method : {BatchMethod::DotKernels, BatchMethod::DequantSgemm}) {
              set_batch_method(method);
              std::vector<float> y(s.n_tokens * s.rows, NAN);
              matmul(m.view(), x.data(), s.n_tokens, y.data(), pool, p);
              expect_close(y, p == MatmulPrecision::Fast ? fast_ref : exact_ref, 1e-5,
                           describe(type, level, s, pool.size(), p, method));
            }
          }
        }
      }
    }
  }
}

// The fast path must really quantize the activations: on quantized weights it differs from the
// exact path by much more than rounding.
TEST(Matmul, FastQuantizesActivations) {
  ThreadPool pool(1);
  for (GgmlType type : {GgmlType::Q8_0, GgmlType::Q4_K, GgmlType::Q4_1, GgmlType::BF16}) {
    const Matrix m = make_matrix(type, 16, 512, 7);
    const std::vector<float> x = random_values(512, 8, 1.0f);
    std::vector<float> fast(16), exact(16);
    matmul(m.view(), x.data(), 1, fast.data(), pool, MatmulPrecision::Fast);
    matmul(m.view(), x.data(), 1, exact.data(), pool, MatmulPrecision::Exact);
    const Reference ref = reference(m, x, 1, false);
    double max_rel = 0;
    for (int r = 0; r < 16; ++r) {
      max_rel = std::max(max_rel, std::fabs(fast[r] - exact[r]) / ref.scale[r]);
    }
    EXPECT_GT(max_rel, 1e-4) << ggml_type_name(type);
  }
}

// Every SIMD level computes the same products (up to summation order), one token or many.
TEST(Matmul, LevelsAgreeWithEachOther) {
  LevelGuard guard;
  ThreadPool pool(2);
  for (GgmlType type : kWeightTypes) {
    const Matrix m = make_matrix(type, 33, 768, 11);
    const std::vector<float> x = random_values(4 * 768, 12, 1.0f);
    const Reference ref = reference(m, x, 4, true);
    set_simd_level(SimdLevel::Scalar);
    std::vector<float> scalar(4 * 33);
    matmul(m.view(), x.data(), 4, scalar.data(), pool);
    for (SimdLevel level : available_levels()) {
      set_simd_level(level);
      EXPECT_EQ(active_simd_level(), level);
      std::vector<float> y(4 * 33);
      matmul(m.view(), x.data(), 4, y.data(), pool);
      for (size_t i = 0; i < y.size(); ++i) {
        EXPECT_LE(std::fabs(y[i] - scalar[i]), 2e-5 * ref.scale[i])
            << ggml_type_name(type) << " " << simd_level_name(level) << " at " << i;
      }
    }
  }
}

// Each (row, token) product is computed the same way whatever the thread count, tile shape or
// batch size: results are bit-identical between 1 and 3 threads and between one batch and token
// by token (the dot kernels; sgemm's blocking is OpenBLAS's business).
TEST(Matmul, ResultsDoNotDependOnThreadsOrBatching) {
  LevelGuard guard;
  BatchMethodGuard method_guard;
  set_batch_method(BatchMethod::DotKernels);
  ThreadPool one(1), three(3);
  for (GgmlType type : kWeightTypes) {
    const Matrix m = make_matrix(type, 71, 512, 31);
    const int64_t n = 9;
    const std::vector<float> x = random_values(n * 512, 32, 1.0f);
    for (SimdLevel level : available_levels()) {
      set_simd_level(level);
      for (MatmulPrecision p : {MatmulPrecision::Fast, MatmulPrecision::Exact}) {
        std::vector<float> a(n * 71), b(n * 71), c(n * 71);
        matmul(m.view(), x.data(), n, a.data(), one, p);
        matmul(m.view(), x.data(), n, b.data(), three, p);
        for (int64_t t = 0; t < n; ++t) {
          matmul(m.view(), x.data() + t * 512, 1, c.data() + t * 71, three, p);
        }
        const std::string what = std::string(ggml_type_name(type)) + " " +
                                 std::string(simd_level_name(level)) +
                                 (p == MatmulPrecision::Fast ? " fast" : " exact");
        EXPECT_EQ(0, std::memcmp(a.data(), b.data(), a.size() * sizeof(float))) << what;
        EXPECT_EQ(0, std::memcmp(a.data(), c.data(), a.size() * sizeof(float))) << what;
      }
    }
  }
}

// The multi-token kernels (row x token tiles, or the strips of a weight block shared by several
// tokens) give every token exactly what the one-token kernel gives it alone: for every format and
// level, N = 1..17 tokens (every tile remainder) over an odd number of rows (every row remainder),
// with one and two threads (different tile splits). This is what lets the batched engine put many
// sequences' decode tokens through one product.
TEST(Matmul, MultiTokenKernelsEqualTheOneTokenKernelBitForBit) {
  LevelGuard guard;
  ThreadPool one(1), two(2);
  constexpr int64_t kRows = 37, kCols = 512, kMaxTokens = 17;
  for (GgmlType type : kWeightTypes) {
    const Matrix m = make_matrix(type, kRows, kCols, 53, /*pad=*/type == GgmlType::F32 ? 8 : 6);
    const std::vector<float> x = random_values(kMaxTokens * kCols, 59, 1.0f);
    for (SimdLevel level : available_levels()) {
      set_simd_level(level);
      for (MatmulPrecision p : {MatmulPrecision::Fast, MatmulPrecision::Exact}) {
        std::vector<float> alone(kMaxTokens * kRows);  // [token][row], each token on its own
        for (int64_t t = 0; t < kMaxTokens; ++t) {
          matmul(m.view(), x.data() + t * kCols, 1, alone.data() + t * kRows, one, p);
        }
        for (int64_t n = 1; n <= kMaxTokens; ++n) {
          for (ThreadPool* pool : {&one, &two}) {
            std::vector<float> batch(n * kRows, -1.0f);
            matmul_rowwise(m.view(), x.data(), n, batch.data(), *pool, p);
            EXPECT_EQ(0, std::memcmp(batch.data(), alone.data(), batch.size() * sizeof(float)))
                << ggml_type_name(type) << " " << simd_level_name(level)
                << (p == MatmulPrecision::Fast ? " fast" : " exact") << " n=" << n
                << " threads=" << pool->size();
          }
        }
      }
    }
  }
}

// Every token of a batch of first..last tokens (matmul_rowwise, 1 and 2 threads) gets bit for bit
// what the one-token kernel gives it alone, at every level; m has `rows` rows of `cols` values.
void expect_batches_equal_one_token(GgmlType type, const Matrix& m, int64_t rows, int64_t cols,
                                    int64_t first, int64_t last, uint32_t seed) {
  ThreadPool one(1), two(2);
  const std::vector<float> x = random_values(last * cols, seed, 1.0f);
  for (SimdLevel level : available_levels()) {
    set_simd_level(level);
    std::vector<float> alone(last * rows);  // [token][row]
    for (int64_t t = 0; t < last; ++t) {
      matmul(m.view(), x.data() + t * cols, 1, alone.data() + t * rows, one);
    }
    for (int64_t n = first; n <= last; ++n) {
      for (ThreadPool* pool : {&one, &two}) {
        std::vector<float> batch(n * rows, -1.0f);
        matmul_rowwise(m.view(), x.data(), n, batch.data(), *pool);
        EXPECT_EQ(0, std::memcmp(batch.data(), alone.data(), batch.size() * sizeof(float)))
            << ggml_type_name(type) << " " << simd_level_name(level) << " n=" << n
            << " threads=" << pool->size();
      }
    }
  }
}

// The prefill shapes of a MoE expert: few tokens per expert (1..17, every pass remainder of the
// batch kernels), rows that are not a multiple of any strip or tile (37), and block counts that
// are not a multiple of the four blocks of a signed-Q8 step (7 blocks of 32, 3 super-blocks of
// 256): every token of a batch gets bit for bit what the one-token kernel gives it alone, with
// one and two threads.
TEST(Matmul, BatchKernelsOnOddBlockCountsEqualTheOneTokenKernel) {
  LevelGuard guard;
  constexpr int64_t kRows = 37, kMaxTokens = 17;
  for (GgmlType type : kWeightTypes) {
    const int64_t cols = ggml_type_traits(type).block_size == 256 ? 3 * 256 : 7 * 32;
    const Matrix m = make_matrix(type, kRows, cols, 61, /*pad=*/type == GgmlType::F32 ? 8 : 6);
    expect_batches_equal_one_token(type, m, kRows, cols, 2, kMaxTokens, 67);
  }
}

// A projection of a whole prompt (the attention's and output's rows see every token) through the
// K-quant kernels: 16..41 tokens, i.e. two to five full passes and every rest pass after them (and
// any pass shape up to 41 tokens a later kernel may choose), over 37 rows and 3 super-blocks; bit
// for bit what the one-token kernel gives each token alone, with one and two threads.
TEST(Matmul, KQuantLongPassesEqualTheOneTokenKernel) {
  LevelGuard guard;
  constexpr int64_t kRows = 37, kCols = 3 * 256;
  for (GgmlType type : {GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K}) {
    const Matrix m = make_matrix(type, kRows, kCols, 71, /*pad=*/6);
    expect_batches_equal_one_token(type, m, kRows, kCols, 16, 41, 73);
  }
}

// A decode step's experts in one region: every job's values are bit-identical to matmul of that
// job alone, whatever the mix of formats, shared or distinct activations, row counts that are not
// a multiple of the tile, and thread count.
TEST(Matmul, MatvecGroupEqualsOneMatmulPerJobBitForBit) {
  LevelGuard guard;
  ThreadPool one(1), two(2);
  constexpr int64_t kCols = 512;
  const std::vector<float> shared = random_values(kCols, 61, 1.0f);
  const std::vector<float> own = random_values(2 * kCols, 67, 1.0f);
  std::vector<Matrix> matrices;
  std::vector<const float*> xs;
  uint32_t seed = 71;
  for (GgmlType type : kWeightTypes) {
    // Two matrices on the shared activation (converted once for both), one on its own.
    matrices.push_back(make_matrix(type, 37, kCols, seed++, type == GgmlType::F32 ? 8 : 6));
    xs.push_back(shared.data());
    matrices.push_back(make_matrix(type, 16, kCols, seed++));
    xs.push_back(shared.data());
    matrices.push_back(make_matrix(type, 5, 2 * kCols, seed++, 4));
    xs.push_back(own.data());
  }
  for (SimdLevel level : available_levels()) {
    set_simd_level(level);
    std::vector<std::vector<float>> want(matrices.size()), got(matrices.size());
    std::vector<MatvecJob> jobs;
    for (size_t i = 0; i < matrices.size(); ++i) {
      want[i].resize(matrices[i].rows);
      matmul(matrices[i].view(), xs[i], 1, want[i].data(), one);
      got[i].assign(matrices[i].rows, -1.0f);
      jobs.push_back({matrices[i].view(), xs[i], got[i].data()});
    }
    for (ThreadPool* pool : {&one, &two}) {
      for (auto& g : got) std::fill(g.begin(), g.end(), -1.0f);
      matvec_group(jobs, *pool);
      for (size_t i = 0; i < matrices.size(); ++i) {
        EXPECT_EQ(0, std::memcmp(want[i].data(), got[i].data(), want[i].size() * sizeof(float)))
            << ggml_type_name(matrices[i].type) << " job " << i << " " << simd_level_name(level)
            << " threads=" << pool->size();
      }
    }
  }
}

TEST(Matmul, MatvecGroupRejectsInconsistentViews) {
  ThreadPool pool(1);
  const Matrix m = make_matrix(GgmlType::Q8_0, 4, 64, 3);
  std::vector<float> x(64, 1.0f), y(4);
  WeightView bad = m.view();
  bad.row_bytes = 8;
  const MatvecJob jobs[] = {{m.view(), x.data(), y.data()}, {bad, x.data(), y.data()}};
  EXPECT_THROW(matvec_group(jobs, pool), Error);
}

// A prompt's experts in one region (matmul_group): every job's values are bit-identical to its
// own matmul_rowwise, and so to the one-token kernel for each token, whatever the mix of formats,
// token counts (0, 1, the row kernels' 2-3, the strips' 4 and more, past one 64-token tile), odd
// row counts, block counts that are not a multiple of four, shared or distinct activations, and
// thread count.
TEST(Matmul, MatmulGroupEqualsOneMatmulPerJobBitForBit) {
  LevelGuard guard;
  ThreadPool one(1), two(2);
  constexpr int64_t kCols = 7 * 32 * 8;  // 1792: 7 K-quant super-blocks, 56 blocks of 32
  const std::vector<float> xs = random_values(75 * kCols, 73, 1.0f);
  const int64_t tokens[] = {4, 1, 0, 3, 70, 2, 9, 5};
  std::vector<Matrix> matrices;
  matrices.reserve(3 * std::size(kWeightTypes));
  std::vector<MatmulJob> jobs;
  uint32_t seed = 79;
  for (GgmlType type : kWeightTypes) {
    for (int k = 0; k < 3; ++k, ++seed) {
      const size_t pad = type == GgmlType::F32 ? 8 : 6;
      matrices.push_back(make_matrix(type, k == 1 ? 37 : 72, kCols, seed, pad));
      if (k == 1) {  // the previous job's activations, as an expert's gate and up
        jobs.push_back({matrices.back().view(), jobs.back().x, jobs.back().n_tokens, nullptr});
      } else {
        jobs.push_back({matrices.back().view(), xs.data() + (seed % 5) * kCols,
                        tokens[seed % std::size(tokens)], nullptr});
      }
    }
  }
  for (SimdLevel level : available_levels()) {
    set_simd_level(level);
    std::vector<std::vector<float>> want(jobs.size()), got(jobs.size());
    for (size_t i = 0; i < jobs.size(); ++i) {
      want[i].resize(static_cast<size_t>(jobs[i].n_tokens * matrices[i].rows));
      if (jobs[i].n_tokens > 0) {
        matmul_rowwise(matrices[i].view(), jobs[i].x, jobs[i].n_tokens, want[i].data(), one);
      }
      got[i].resize(want[i].size());
      jobs[i].y = got[i].data();
    }
    for (ThreadPool* pool : {&one, &two}) {
      for (auto& g : got) std::fill(g.begin(), g.end(), -1.0f);
      matmul_group(jobs, *pool);
      for (size_t i = 0; i < jobs.size(); ++i) {
        EXPECT_EQ(0, std::memcmp(want[i].data(), got[i].data(), want[i].size() * sizeof(float)))
            << ggml_type_name(matrices[i].type) << " job " << i << " n=" << jobs[i].n_tokens << " "
            << simd_level_name(level) << " threads=" << pool->size();
      }
    }
  }
}

TEST(Matmul, MatmulGroupRejectsInconsistentViews) {
  ThreadPool pool(1);
  const Matrix m = make_matrix(GgmlType::Q8_0, 4, 64, 3);
  std::vector<float> x(2 * 64, 1.0f), y(2 * 4);
  WeightView bad = m.view();
  bad.row_bytes = 8;
  const MatmulJob jobs[] = {{m.view(), x.data(), 2, y.data()}, {bad, x.data(), 2, y.data()}};
  EXPECT_THROW(matmul_group(jobs, pool), Error);
}

// The AVX2 Q8_0 kernels' per-(row, token) recipe (kernels/avx2.cpp): per block the exact integer
// Σ w x; block b goes to float lane b % 4 as acc = fma(d_w * d_x, float(Σ w x), acc), blocks in
// order; the result is (acc0 + acc2) + (acc1 + acc3). Decode and batches, with 1 or 2 threads and
// block counts that are not a multiple of four, must follow it bit for bit: that is what keeps
// batches equal to token-by-token decoding.
TEST(Matmul, Avx2Q8_0FollowsItsPerBlockRecipe) {
  if (detected_simd_level() < SimdLevel::Avx2) GTEST_SKIP() << "no AVX2";
  LevelGuard guard;
  set_simd_level(SimdLevel::Avx2);
  ThreadPool one(1), two(2);
  constexpr int64_t kTokens = 5;
  for (const auto& [rows, cols] : {std::pair<int64_t, int64_t>{1, 32},
                                   {3, 320},
                                   {4, 96},
                                   {7, 128},
                                   {13, 2048},
                                   {37, 320},
                                   // Short rows decode two at a time (tails of 1, 2 and 3 blocks,
                                   // an odd last row), up to 16 blocks; 17 blocks one at a time.
                                   {9, 96},
                                   {6, 192},
                                   {5, 160},
                                   {17, 512},
                                   {3, 544}}) {
    const Matrix m = make_matrix(GgmlType::Q8_0, rows, cols, 83 + static_cast<uint32_t>(rows), 6);
    const std::vector<float> x = random_values(kTokens * cols, 89, 1.0f);
    std::vector<float> want(kTokens * rows);
    std::vector<BlockQ8_0> xq(cols / 32);
    for (int64_t t = 0; t < kTokens; ++t) {
      quantize_row_activations(GgmlType::Q8_0, x.data() + t * cols, xq.data(), cols);
      for (int64_t r = 0; r < rows; ++r) {
        float acc[4] = {};
        for (int64_t b = 0; b < cols / 32; ++b) {
          BlockQ8_0 wb;
          std::memcpy(&wb, m.data.data() + r * m.row_bytes + b * sizeof(BlockQ8_0), sizeof(wb));
          int32_t sum = 0;
          for (int k = 0; k < 32; ++k) sum += int32_t{wb.qs[k]} * int32_t{xq[b].qs[k]};
          const float d = fp16_to_fp32(wb.d) * fp16_to_fp32(xq[b].d);
          acc[b % 4] = std::fma(d, static_cast<float>(sum), acc[b % 4]);
        }
        want[t * rows + r] = (acc[0] + acc[2]) + (acc[1] + acc[3]);
      }
    }
    for (ThreadPool* pool : {&one, &two}) {
      std::vector<float> batch(kTokens * rows, -1.0f), alone(kTokens * rows, -1.0f);
      matmul_rowwise(m.view(), x.data(), kTokens, batch.data(), *pool);
      for (int64_t t = 0; t < kTokens; ++t) {
        matmul(m.view(), x.data() + t * cols, 1, alone.data() + t * rows, *pool);
      }
      EXPECT_EQ(0, std::memcmp(want.data(), batch.data(), want.size() * sizeof(float)))
          << rows << " rows, threads=" << pool->size();
      EXPECT_EQ(0, std::memcmp(want.data(), alone.data(), want.size() * sizeof(float)))
          << rows << " rows, threads=" << pool->size();
    }
  }
}

// The SIMD activation converters produce exactly the reference bytes, including ties (values on
// .5 steps), all-zero blocks and a block whose peak appears with both signs.
TEST(Matmul, ActivationConversionIsBitIdenticalAtEveryLevel) {
  LevelGuard guard;
  const int64_t n = 1024;
  std::vector<float> x = random_values(n, 41, 1.0f);
  for (int j = 0; j < 32; ++j) x[j] = static_cast<float>(j - 16) * 0.5f;  // many exact halves
  for (int j = 32; j < 64; ++j) x[j] = 0.0f;
  for (int j = 256; j < 512; ++j) x[j] = 0.0f;
  x[300] = 2.5f, x[301] = -2.5f;  // Q8_K peak tie: the first one sets the sign
  x[600] = -3.0f, x[700] = 3.0f;
  for (GgmlType vt :
       {GgmlType::F16, GgmlType::BF16, GgmlType::Q8_0, GgmlType::Q8_1, GgmlType::Q8_K}) {
    const size_t bytes = ggml_row_bytes(ggml_type_traits(vt), n);
    std::vector<std::byte> want(bytes), got(bytes);
    quantize_activation_reference(vt, x.data(), want.data(), n);
    for (SimdLevel level : available_levels()) {
      set_simd_level(level);
      std::fill(got.begin(), got.end(), std::byte{0x77});
      convert_activation_row(vt, x.data(), got.data(), n);
      EXPECT_EQ(0, std::memcmp(want.data(), got.data(), bytes))
          << ggml_type_name(vt) << " " << simd_level_name(level);
    }
  }
}

TEST(Matmul, RejectsInconsistentViews) {
  ThreadPool pool(1);
  const Matrix m = make_matrix(GgmlType::Q8_0, 4, 64, 3);
  std::vector<float> x(64, 1.0f), y(4);
  WeightView bad_cols = m.view();
  bad_cols.cols = 48;
  EXPECT_THROW(matmul(bad_cols, x.data(), 1, y.data(), pool), Error);
  WeightView short_rows = m.view();
  short_rows.row_bytes = 60;
  EXPECT_THROW(matmul(short_rows, x.data(), 1, y.data(), pool), Error);
  WeightView unsupported = m.view();
  unsupported.type = GgmlType::Q2_K;
  EXPECT_THROW(matmul(unsupported, x.data(), 1, y.data(), pool), Error);
  EXPECT_THROW(matmul(m.view(), x.data(), -1, y.data(), pool), Error);
  WeightView misaligned = m.view();
  misaligned.data += 1;
  EXPECT_THROW(matmul(misaligned, x.data(), 1, y.data(), pool), Error);
  EXPECT_NO_THROW(matmul(m.view(), x.data(), 0, y.data(), pool));
}

TEST(Matmul, VecDotTypesFollowGgml) {
  EXPECT_EQ(vec_dot_type(GgmlType::F32), GgmlType::F32);
  EXPECT_EQ(vec_dot_type(GgmlType::F16), GgmlType::F16);
  EXPECT_EQ(vec_dot_type(GgmlType::BF16), GgmlType::BF16);
  for (GgmlType t : {GgmlType::Q4_0, GgmlType::Q5_0, GgmlType::Q8_0, GgmlType::MXFP4}) {
    EXPECT_EQ(vec_dot_type(t), GgmlType::Q8_0);
  }
  EXPECT_EQ(vec_dot_type(GgmlType::Q4_1), GgmlType::Q8_1);
  EXPECT_EQ(vec_dot_type(GgmlType::Q5_1), GgmlType::Q8_1);
  for (GgmlType t : {GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K}) {
    EXPECT_EQ(vec_dot_type(t), GgmlType::Q8_K);
  }
  EXPECT_FALSE(matmul_supports(GgmlType::Q3_K));
}

TEST(VectorOps, DotAndAxpyAtEveryLevel) {
  LevelGuard guard;
  for (int64_t n : {1, 7, 16, 33, 128, 1000}) {
    const std::vector<float> a = random_values(n, 21, 1.0f);
    const std::vector<float> b = random_values(n, 22, 1.0f);
    double want = 0, scale = 0;
    for (int64_t i = 0; i < n; ++i) {
      want += static_cast<double>(a[i]) * b[i];
      scale += std::fabs(static_cast<double>(a[i]) * b[i]);
    }
    for (SimdLevel level : available_levels()) {
      set_simd_level(level);
      EXPECT_NEAR(dot_f32(a.data(), b.data(), n), want, 1e-6 * scale)
          << simd_level_name(level) << " n=" << n;
      std::vector<float> y = b;
      axpy_f32(0.75f, a.data(), y.data(), n);
      for (int64_t i = 0; i < n; ++i) {
        const double exact = b[i] + 0.75 * a[i];  // one rounding (FMA) or two: within 2 ulps
        EXPECT_NEAR(y[i], exact, 1.2e-7 * (std::fabs(b[i]) + std::fabs(0.75 * a[i])))
            << simd_level_name(level) << " i=" << i;
      }
    }
  }
}

TEST(CpuFeatures, LevelsAreOrderedAndClamped) {
  LevelGuard guard;
  EXPECT_EQ(active_simd_level(), detected_simd_level());
  set_simd_level(SimdLevel::Scalar);
  EXPECT_EQ(active_simd_level(), SimdLevel::Scalar);
  set_simd_level(SimdLevel::Avx512);  // never above what was detected
  EXPECT_EQ(active_simd_level(), detected_simd_level());
}

TEST(CpuFeatures, EnvironmentOnlyLowersTheLevel) {
  for (SimdLevel hw : {SimdLevel::Scalar, SimdLevel::Avx2, SimdLevel::Avx512}) {
    EXPECT_EQ(simd_level_from_env(nullptr, hw), hw);
    EXPECT_EQ(simd_level_from_env("bogus", hw), hw);
    EXPECT_EQ(simd_level_from_env("scalar", hw), SimdLevel::Scalar);
    EXPECT_EQ(simd_level_from_env("avx2", hw), std::min(hw, SimdLevel::Avx2));
    EXPECT_EQ(simd_level_from_env("avx512", hw), hw);
  }
}

}  // namespace
}  // namespace moescope
