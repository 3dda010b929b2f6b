#include "engine/tensor/matmul.h"
#include "engine/tensor/matmul_rowwise.h"
#include "engine/tensor/matvec_group.h"

#include <cblas.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/common/error.h"
#include "engine/tensor/blocks.h"
#include "engine/tensor/cpu_features.h"
#include "engine/tensor/dequantize.h"
#include "engine/tensor/fp16.h"
#include "engine/tensor/kernels/kernels.h"
#include "engine/tensor/quantize.h"

namespace moescope {
namespace {

using kernels::DotTile;
using kernels::DotTileFn;

// Below this many multiply-adds per thread, waking another thread costs more than it saves.
constexpr int64_t kMinMacsPerThread = 64 * 1024;
// Weight rows handled together: their dequantized f32 copy (Exact) stays in L2.
constexpr int64_t kTileRows = 64;
// Tokens handled together by the fast path: their converted activations stay in L2.
constexpr int64_t kTileTokens = 64;

const kernels::KernelSet& level_kernels(SimdLevel level) {
  switch (level) {
    case SimdLevel::Avx512:
      return kernels::avx512_kernels();
    case SimdLevel::Avx2:
      return kernels::avx2_kernels();
    case SimdLevel::Scalar:
      break;
  }
  return kernels::scalar_kernels();
}

// The best kernel at or below the active level (a level may lack kernels for some formats).
template <typename Fn, typename Get>
Fn pick(Get get) {
  for (int level = static_cast<int>(active_simd_level()); level >= 0; --level) {
    if (Fn fn = get(level_kernels(static_cast<SimdLevel>(level)))) return fn;
  }
  return nullptr;
}

DotTileFn dot_tile_kernel(GgmlType type) {
  return pick<DotTileFn>([type](const kernels::KernelSet& k) { return k.dot_tile(type); });
}

size_t activation_row_bytes(GgmlType vec_type, int64_t cols) {
  return ggml_row_bytes(ggml_type_traits(vec_type), static_cast<uint64_t>(cols));
}

// x[n][cols] f32 -> out[n][row_bytes] in vec_type.
void convert_activations(GgmlType vec_type, const float* x, int64_t n_tokens, int64_t cols,
                         std::byte* out, ThreadPool& pool) {
  const size_t row_bytes = activation_row_bytes(vec_type, cols);
  const int64_t grain = std::max<int64_t>(1, kMinMacsPerThread / 8 / cols);
  pool.parallel_for(
      n_tokens,
      [&](int64_t begin, int64_t end, int) {
        for (int64_t t = begin; t < end; ++t) {
          convert_activation_row(vec_type, x + t * cols, out + t * row_bytes, cols);
        }
      },
      grain);
}

void check_view(const WeightView& w, int64_t n_tokens, const float* x, const float* y) {
  if (!matmul_supports(w.type)) {
    fail("matmul: weight type {} is not supported", ggml_type_name(w.type));
  }
  const auto& traits = ggml_type_traits(w.type);
  if (w.rows < 0 || w.cols <= 0 || w.cols % traits.block_size != 0) {
    fail("matmul: a {} weight of {} x {} is not a whole number of {}-value blocks per row",
         ggml_type_name(w.type), w.rows, w.cols, traits.block_size);
  }
  if (w.row_bytes < ggml_row_bytes(traits, static_cast<uint64_t>(w.cols))) {
    fail("matmul: row stride {} bytes is smaller than a {} row of {} values", w.row_bytes,
         ggml_type_name(w.type), w.cols);
  }
  // Kernels read blocks through their structs: f32 rows need 4-byte, fp16 fields 2-byte alignment.
  const size_t align = w.type == GgmlType::F32 ? 4 : w.type == GgmlType::MXFP4 ? 1 : 2;
  if (reinterpret_cast<uintptr_t>(w.data) % align != 0 || w.row_bytes % align != 0) {
    fail("matmul: {} weight rows must be {}-byte aligned", ggml_type_name(w.type), align);
  }
  if (n_tokens < 0) fail("matmul: negative token count {}", n_tokens);
  if (n_tokens > 0 && w.rows > 0 && (w.data == nullptr || x == nullptr || y == nullptr)) {
    fail("matmul: null buffer");
  }
}

// Rows per thread so that each thread gets enough work to be worth waking.
int64_t row_grain(const WeightView& w, int64_t n_tokens) {
  return std::max<int64_t>(1, kMinMacsPerThread / (w.cols * std::max<int64_t>(n_tokens, 1)));
}

// Fast path: activations converted once, then the format's dot kernel over row tiles.
void matmul_fast(const WeightView& w, const float* x, int64_t n_tokens, float* y,
                 ThreadPool& pool) {
  const GgmlType vec_type = vec_dot_type(w.type);
  const DotTileFn dot = dot_tile_kernel(w.type);
  const std::byte* xq = reinterpret_cast<const std::byte*>(x);
  size_t x_stride = static_cast<size_t>(w.cols) * sizeof(float);
  thread_local std::vector<std::byte> converted;  // reused: decode calls this per matrix
  if (vec_type != GgmlType::F32) {
    x_stride = activation_row_bytes(vec_type, w.cols);
    converted.resize(x_stride * n_tokens);
    convert_activations(vec_type, x, n_tokens, w.cols, converted.data(), pool);
    xq = converted.data();
  }
  // Tiles of kTileRows weight rows x kTileTokens tokens, token-block major so that consecutive
  // tiles of a thread reuse the same activations; small batches with few rows still spread.
  const int64_t row_tiles = (w.rows + kTileRows - 1) / kTileRows;
  const int64_t token_tiles = (n_tokens + kTileTokens - 1) / kTileTokens;
  const int64_t tile_macs = std::min(kTileRows, w.rows) * std::min(kTileTokens, n_tokens) * w.cols;
  pool.parallel_for(
      row_tiles * token_tiles,
      [&](int64_t begin, int64_t end, int) {
        for (int64_t item = begin; item < end; ++item) {
          const int64_t r0 = item % row_tiles * kTileRows;
          const int64_t t0 = item / row_tiles * kTileTokens;
          dot(DotTile{w.cols, w.data + r0 * w.row_bytes, w.row_bytes,
                      std::min(kTileRows, w.rows - r0), xq + t0 * x_stride, x_stride,
                      std::min(kTileTokens, n_tokens - t0), y + t0 * w.rows + r0, w.rows});
        }
      },
      std::max<int64_t>(1, kMinMacsPerThread / tile_macs));
}

// Exact path: weights dequantized to f32 tile by tile, f32 activations, f32 dot products.
void matmul_exact(const WeightView& w, const float* x, int64_t n_tokens, float* y,
                  ThreadPool& pool) {
  const DotTileFn dot = dot_tile_kernel(GgmlType::F32);
  const auto* xb = reinterpret_cast<const std::byte*>(x);
  const size_t f32_row = static_cast<size_t>(w.cols) * sizeof(float);
  pool.parallel_for(
      w.rows,
      [&](int64_t begin, int64_t end, int) {
        thread_local std::vector<float> tile;  // [kTileRows][cols]
        if (w.type != GgmlType::F32) tile.resize(static_cast<size_t>(kTileRows * w.cols));
        for (int64_t r0 = begin; r0 < end; r0 += kTileRows) {
          const int64_t n_rows = std::min(kTileRows, end - r0);
          const std::byte* rows = w.data + r0 * w.row_bytes;
          size_t stride = w.row_bytes;
          if (w.type != GgmlType::F32) {
            for (int64_t r = 0; r < n_rows; ++r) {
              dequantize_row(w.type, rows + r * w.row_bytes, tile.data() + r * w.cols, w.cols);
            }
            rows = reinterpret_cast<const std::byte*>(tile.data());
            stride = f32_row;
          }
          dot(DotTile{w.cols, rows, stride, n_rows, xb, f32_row, n_tokens, y + r0, w.rows});
        }
      },
      row_grain(w, n_tokens));
}

std::atomic<BatchMethod> g_batch_method{BatchMethod::Auto};

// We parallelise over weight tiles ourselves; OpenBLAS's own threads would oversubscribe.
void use_single_threaded_openblas() {
  static std::once_flag once;
  std::call_once(once, [] { openblas_set_num_threads(1); });
}

// x̃[n][cols]: the f32 values the fast dot products see, i.e. x rounded through vec_type.
std::vector<float> rounded_activations(GgmlType vec_type, const float* x, int64_t n_tokens,
                                       int64_t cols, std::vector<std::byte>& packed,
                                       ThreadPool& pool) {
  std::vector<float> xt(static_cast<size_t>(n_tokens * cols));
  const size_t row_bytes = activation_row_bytes(vec_type, cols);
  packed.resize(row_bytes * n_tokens);
  convert_activations(vec_type, x, n_tokens, cols, packed.data(), pool);
  pool.parallel_for(
      n_tokens,
      [&](int64_t begin, int64_t end, int) {
        for (int64_t t = begin; t < end; ++t) {
          dequantize_row(vec_type, packed.data() + t * row_bytes, xt.data() + t * cols, cols);
        }
      },
      std::max<int64_t>(1, kMinMacsPerThread / 8 / cols));
  return xt;
}

// Q4_1/Q5_1 dots use the Q8_1 block's stored s = fp16(d Σq) for the min term, not the exact
// Σ x̃: e[t][b] = s - Σ_j x̃[t][32b + j] is what sgemm on dequantized values misses.
std::vector<float> q8_1_sum_errors(const std::vector<std::byte>& packed, const float* xt,
                                   int64_t n_tokens, int64_t cols) {
  const int64_t nb = cols / 32;
  std::vector<float> e(static_cast<size_t>(n_tokens * nb));
  for (int64_t t = 0; t < n_tokens; ++t) {
    const auto* blocks = reinterpret_cast<const BlockQ8_1*>(packed.data()) + t * nb;
    for (int64_t b = 0; b < nb; ++b) {
      float sum = 0;
      for (int j = 0; j < 32; ++j) sum += xt[t * cols + b * 32 + j];
      e[t * nb + b] = fp16_to_fp32(blocks[b].s) - sum;
    }
  }
  return e;
}

float block_min(GgmlType type, const std::byte* row, int64_t b) {
  if (type == GgmlType::Q4_1) return fp16_to_fp32(reinterpret_cast<const BlockQ4_1*>(row)[b].m);
  return fp16_to_fp32(reinterpret_cast<const BlockQ5_1*>(row)[b].m);
}

// y[n][rows] = a[n][cols] · W̃^T with W̃ the dequantized weight, tile by tile through sgemm.
// `min_errors` (Q4_1/Q5_1 fast path only) adds Σ_b m[r][b] e[t][b].
void sgemm_tiles(const WeightView& w, const float* a, int64_t n_tokens, float* y,
                 const float* min_errors, ThreadPool& pool) {
  use_single_threaded_openblas();
  // Tiles of ~256 KiB of f32 weights: big enough for sgemm's blocking, small enough for L2.
  const int64_t tile_rows = std::clamp<int64_t>(65536 / w.cols, 16, 256);
  const bool direct = w.type == GgmlType::F32 && w.row_bytes % sizeof(float) == 0;
  const int64_t nb = w.cols / 32;
  pool.parallel_for(
      w.rows,
      [&](int64_t begin, int64_t end, int) {
        thread_local std::vector<float> tile;  // [tile_rows][cols]
        thread_local std::vector<float> mins;  // [tile_rows][nb]
        for (int64_t r0 = begin; r0 < end; r0 += tile_rows) {
          const int64_t n_rows = std::min(tile_rows, end - r0);
          const std::byte* rows = w.data + r0 * w.row_bytes;
          const float* b = reinterpret_cast<const float*>(rows);
          int64_t ldb = static_cast<int64_t>(w.row_bytes / sizeof(float));
          if (!direct) {
            tile.resize(static_cast<size_t>(tile_rows * w.cols));
            for (int64_t r = 0; r < n_rows; ++r) {
              dequantize_row(w.type, rows + r * w.row_bytes, tile.data() + r * w.cols, w.cols);
            }
            b = tile.data();
            ldb = w.cols;
          }
          cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(n_tokens),
                      static_cast<int>(n_rows), static_cast<int>(w.cols), 1.0f, a,
                      static_cast<int>(w.cols), b, static_cast<int>(ldb), 0.0f, y + r0,
                      static_cast<int>(w.rows));
          if (min_errors != nullptr) {
            mins.resize(static_cast<size_t>(tile_rows * nb));
            for (int64_t r = 0; r < n_rows; ++r) {
              for (int64_t blk = 0; blk < nb; ++blk) {
                mins[r * nb + blk] = block_min(w.type, rows + r * w.row_bytes, blk);
              }
            }
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(n_tokens),
                        static_cast<int>(n_rows), static_cast<int>(nb), 1.0f, min_errors,
                        static_cast<int>(nb), mins.data(), static_cast<int>(nb), 1.0f, y + r0,
                        static_cast<int>(w.rows));
          }
        }
      },
      std::max(tile_rows, row_grain(w, n_tokens)));
}

void matmul_fast_sgemm(const WeightView& w, const float* x, int64_t n_tokens, float* y,
                       ThreadPool& pool) {
  const GgmlType vec_type = vec_dot_type(w.type);
  if (vec_type == GgmlType::F32) {
    sgemm_tiles(w, x, n_tokens, y, nullptr, pool);
    return;
  }
  std::vector<std::byte> packed;
  const std::vector<float> xt = rounded_activations(vec_type, x, n_tokens, w.cols, packed, pool);
  std::vector<float> errors;
  if (vec_type == GgmlType::Q8_1) errors = q8_1_sum_errors(packed, xt.data(), n_tokens, w.cols);
  sgemm_tiles(w, xt.data(), n_tokens, y, errors.empty() ? nullptr : errors.data(), pool);
}

// Whether this OpenBLAS build runs AVX-512 sgemm kernels on this CPU. 0.3.21 with DYNAMIC_ARCH
// picks its Haswell (AVX2) kernels on CPUs it does not know, e.g. AMD Zen 4/5.
bool openblas_uses_avx512() {
  static const bool avx512 = [] {
    const std::string_view core = openblas_get_corename();
    return core == "SkylakeX" || core == "Cooperlake" || core == "SapphireRapids";
  }();
  return avx512;
}

// Which method a batch of n_tokens > 1 uses, for dot products in `math_type`.
bool use_sgemm(GgmlType math_type, int64_t n_tokens) {
  switch (g_batch_method.load(std::memory_order_relaxed)) {
    case BatchMethod::DotKernels:
      return false;
    case BatchMethod::DequantSgemm:
      return true;
    case BatchMethod::Auto:
      break;
  }
  // Measured (bench/kernels/README.md): on quantized and half-precision weights the integer
  // VNNI / f16 dot kernels beat dequantize + sgemm by up to 2x. On f32 math our AVX-512 kernels
  // match or beat OpenBLAS when it runs its AVX2 kernels; OpenBLAS wins where it has AVX-512
  // kernels of its own, or we have none.
  if (math_type != GgmlType::F32 || n_tokens < 16) return false;
  return active_simd_level() < SimdLevel::Avx512 || openblas_uses_avx512();
}

}  // namespace

void convert_activation_row(GgmlType vec_type, const float* x, std::byte* out, int64_t n) {
  switch (vec_type) {
    case GgmlType::F32:
      std::memcpy(out, x, static_cast<size_t>(n) * sizeof(float));
      return;
    case GgmlType::F16:
      return pick<kernels::ConvertRowFn>([](const auto& k) { return k.to_f16; })(
          x, reinterpret_cast<uint16_t*>(out), n);
    case GgmlType::BF16:
      return pick<kernels::ConvertRowFn>([](const auto& k) { return k.to_bf16; })(
          x, reinterpret_cast<uint16_t*>(out), n);
    case GgmlType::Q8_0:
      return pick<kernels::QuantizeRowFn>([](const auto& k) { return k.to_q8_0; })(x, out, n);
    case GgmlType::Q8_1:
      return pick<kernels::QuantizeRowFn>([](const auto& k) { return k.to_q8_1; })(x, out, n);
    case GgmlType::Q8_K:
      return pick<kernels::QuantizeRowFn>([](const auto& k) { return k.to_q8_k; })(x, out, n);
    default:
      break;
  }
  fail("matmul: {} is not an activation format", ggml_type_name(vec_type));
}

bool matmul_supports(GgmlType type) {
  return kernels::scalar_kernels().dot_tile(type) != nullptr;
}

GgmlType vec_dot_type(GgmlType type) {
  switch (type) {
    case GgmlType::F32:
      return GgmlType::F32;
    case GgmlType::F16:
      return GgmlType::F16;
    case GgmlType::BF16:
      return GgmlType::BF16;
    case GgmlType::Q4_0:
    case GgmlType::Q5_0:
    case GgmlType::Q8_0:
    case GgmlType::MXFP4:
      return GgmlType::Q8_0;
    case GgmlType::Q4_1:
    case GgmlType::Q5_1:
      return GgmlType::Q8_1;
    case GgmlType::Q4_K:
    case GgmlType::Q5_K:
    case GgmlType::Q6_K:
      return GgmlType::Q8_K;
    default:
      break;
  }
  fail("matmul: weight type {} has no dot product", ggml_type_name(type));
}

void matmul(const WeightView& w, const float* x, int64_t n_tokens, float* y, ThreadPool& pool,
            MatmulPrecision precision) {
  check_view(w, n_tokens, x, y);
  if (n_tokens == 0 || w.rows == 0) return;
  const bool fast = precision == MatmulPrecision::Fast;
  // The exact path is f32 math on dequantized weights whatever their format.
  const GgmlType math_type = fast ? w.type : GgmlType::F32;
  if (n_tokens > 1 && use_sgemm(math_type, n_tokens)) {
    if (fast) {
      matmul_fast_sgemm(w, x, n_tokens, y, pool);
    } else {
      sgemm_tiles(w, x, n_tokens, y, nullptr, pool);
    }
  } else {
    if (fast) {
      matmul_fast(w, x, n_tokens, y, pool);
    } else {
      matmul_exact(w, x, n_tokens, y, pool);
    }
  }
}

void matmul_rowwise(const WeightView& w, const float* x, int64_t n_tokens, float* y,
                    ThreadPool& pool, MatmulPrecision precision) {
  check_view(w, n_tokens, x, y);
  if (n_tokens == 0 || w.rows == 0) return;
  if (precision == MatmulPrecision::Fast) {
    matmul_fast(w, x, n_tokens, y, pool);
  } else {
    matmul_exact(w, x, n_tokens, y, pool);
  }
}

namespace {

// Rows of one job handed to the dot kernel at a time: a multiple of every one-token kernel's row
// block, few enough that the threads' shares end close together.
constexpr int64_t kGroupTileRows = 16;

// Every range of a group's tiles holds at least this many multiply-adds, so a group with less
// than two ranges' worth stays on the calling thread. A decode token's group is one short burst
// between serial steps: on the built-in model (top-4 experts of 96 x 192, ~147 K multiply-adds
// for all gate and up products) two ranges of ~1 us each cost more in waking and waiting for a
// worker than they save (tg64 1280 tok/s at 2 threads against 1345 at 1, idle machine; see
// bench/kernels/README.md). The realistic models' groups (~33 M) still get 4 ranges per thread.
constexpr int64_t kGroupMinMacsPerRange = 256 * 1024;

// matmul_group's tiles are split into up to this many ranges per thread where each range holds
// at least kGroupMinMacsPerExtraRange multiply-adds, else into the pool's usual 4. A prompt's group
// is tens of milliseconds of tiles whose estimated costs (tile_cost) are off by tens of percent, so
// the threads' last ranges end apart. Replaying the measured time of each 1/128 of the realistic
// models' 2-thread pp32 groups (CPU time per range, bench/kernels/README.md): the second thread
// waits ~6-7 % of a group's time with 4 ranges per thread, ~2.7 % with 16, ~1.5 % with 32; a claim
// costs one compare-exchange.
constexpr int kGroupTileRangesPerThread = 32;
// Tens of microseconds of products per range: the built-in model's groups (~19 M multiply-adds
// at pp128) keep their 8 ranges at 2 threads, the realistic models' (~1 G at pp32) get 64.
constexpr int64_t kGroupMinMacsPerExtraRange = 4 * 1024 * 1024;

// The one-token kernels prefetch this many rows ahead of the rows they read (kernels/avx2.cpp);
// a thread about to start a job's last tile prefetches the next job's first rows, which that
// prefetch never reaches (the next expert's matrix is elsewhere in memory).
constexpr int64_t kNextJobPrefetchRows = 8;

void prefetch_rows(const WeightView& w, int64_t n_rows) {
  const auto* p = reinterpret_cast<const char*>(w.data);
  const size_t bytes = static_cast<size_t>(std::min(n_rows, w.rows)) * w.row_bytes;
  for (size_t off = 0; off < bytes; off += 64) __builtin_prefetch(p + off, 0, 3);
}

int64_t token_count(const MatvecJob&) {
  return 1;
}
int64_t token_count(const MatmulJob& job) {
  return job.n_tokens;
}

// Job j of a group converts nothing when job j-1 has the same activations (same pointer, token
// count, length and format), as a fused expert's gate and up do: it reads j-1's converted rows.
template <class Job>
bool reuses_previous_activations(std::span<const Job> jobs, size_t j) {
  if (j == 0) return false;
  const Job& prev = jobs[j - 1];
  const Job& job = jobs[j];
  return prev.x == job.x && token_count(prev) == token_count(job) && prev.w.cols == job.w.cols &&
         vec_dot_type(prev.w.type) == vec_dot_type(job.w.type);
}

// A job ready for the kernels: its activation in vec_dot_type and its first tile in the group.
struct PreparedJob {
  DotTileFn dot;
  const std::byte* x;
  size_t x_offset;  // into the converted activations (when x is null)
  int64_t first_tile;
  bool converts;  // this job converts its activation (the previous job's is another one)
};

// Converts each job's activation unless the previous job has the same one (same pointer, format
// and length); returns the total number of row tiles.
int64_t prepare_jobs(std::span<const MatvecJob> jobs, std::vector<PreparedJob>& prepared,
                     std::vector<std::byte>& converted) {
  prepared.clear();
  size_t bytes = 0;
  int64_t tiles = 0;
  for (size_t j = 0; j < jobs.size(); ++j) {
    const MatvecJob& job = jobs[j];
    check_view(job.w, 1, job.x, job.y);
    const GgmlType vec_type = vec_dot_type(job.w.type);
    PreparedJob p{dot_tile_kernel(job.w.type), nullptr, bytes, tiles, false};
    if (vec_type == GgmlType::F32) {
      p.x = reinterpret_cast<const std::byte*>(job.x);
    } else if (reuses_previous_activations(jobs, j)) {
      p.x_offset = prepared.back().x_offset;
    } else {
      p.converts = true;
      bytes += activation_row_bytes(vec_type, job.w.cols);
    }
    prepared.push_back(p);
    tiles += (job.w.rows + kGroupTileRows - 1) / kGroupTileRows;
  }
  converted.resize(bytes);
  for (size_t j = 0; j < jobs.size(); ++j) {
    if (prepared[j].converts) {
      convert_activation_row(vec_dot_type(jobs[j].w.type), jobs[j].x,
                             converted.data() + prepared[j].x_offset, jobs[j].w.cols);
    }
  }
  return tiles;
}

}  // namespace

void matvec_group(std::span<const MatvecJob> jobs, ThreadPool& pool) {
  // Scratch reused across calls; the workers reach the caller's through these references.
  thread_local std::vector<PreparedJob> prepared_scratch;
  thread_local std::vector<std::byte> converted_scratch;
  std::vector<PreparedJob>& prepared = prepared_scratch;
  std::vector<std::byte>& converted = converted_scratch;
  const int64_t n_tiles = prepare_jobs(jobs, prepared, converted);
  if (n_tiles == 0) return;
  int64_t max_cols = 1;
  for (const MatvecJob& job : jobs) max_cols = std::max(max_cols, job.w.cols);
  // One range of tiles over all jobs: a thread's share runs from one job into the next.
  pool.parallel_for(
      n_tiles,
      [&](int64_t begin, int64_t end, int) {
        size_t j = static_cast<size_t>(std::upper_bound(prepared.begin(), prepared.end(), begin,
                                                        [](int64_t tile, const PreparedJob& p) {
                                                          return tile < p.first_tile;
                                                        }) -
                                       prepared.begin() - 1);
        for (int64_t tile = begin; tile < end; ++tile) {
          while (j + 1 < prepared.size() && tile >= prepared[j + 1].first_tile) ++j;
          const MatvecJob& job = jobs[j];
          const PreparedJob& p = prepared[j];
          const std::byte* x = p.x != nullptr ? p.x : converted.data() + p.x_offset;
          const int64_t r0 = (tile - p.first_tile) * kGroupTileRows;
          if (r0 + kGroupTileRows >= job.w.rows && j + 1 < jobs.size()) {
            prefetch_rows(jobs[j + 1].w, kNextJobPrefetchRows);
          }
          p.dot(DotTile{job.w.cols, job.w.data + r0 * job.w.row_bytes, job.w.row_bytes,
                        std::min(kGroupTileRows, job.w.rows - r0), x, 0, 1, job.y + r0, 0});
        }
      },
      std::max<int64_t>(1, kGroupMinMacsPerRange / (kGroupTileRows * max_cols)));
}

namespace {

// One job of matmul_group with its activations ready for the dot kernel.
struct PreparedBatchJob {
  DotTileFn dot;
  const std::byte* x;  // f32 activations used as they are, else null: converted + x_offset
  size_t x_offset;
  size_t x_stride;
};

// A tile of matmul_group: rows [r0, r0 + kTileRows) x tokens [t0, t0 + kTileTokens) of a job, and
// the estimated cost of the tiles before it (the range position the threads split).
struct BatchTile {
  int64_t cost_begin;
  size_t job;
  int64_t r0;
  int64_t t0;
};

// A tile's cost in block-token steps: every row's blocks once per token, plus about two tokens'
// worth of unpacking (strips, scales) that every tile pays whatever its token count.
int64_t tile_cost(const WeightView& w, int64_t n_rows, int64_t n_tokens) {
  const int64_t blocks = std::max<int64_t>(1, w.cols / ggml_type_traits(w.type).block_size);
  return n_rows * blocks * (n_tokens + 2);
}

// What matmul_group runs: each job prepared, the (job, token) rows to convert, the tiles in cost
// order, and the converted activations.
struct BatchPlan {
  std::vector<PreparedBatchJob> prepared;
  std::vector<std::pair<size_t, int64_t>> to_convert;
  std::vector<BatchTile> tiles;
  std::vector<std::byte> converted;
};

// Lays out each job's converted activations (a job with the same activations as the previous one
// shares them), lists the rows to convert and the tiles, sizes plan.converted; returns the total
// cost.
int64_t plan_batch_jobs(std::span<const MatmulJob> jobs, BatchPlan& plan) {
  auto& [prepared, to_convert, tiles, converted] = plan;
  prepared.clear();
  to_convert.clear();
  tiles.clear();
  size_t converted_bytes = 0;
  int64_t cost = 0;
  for (size_t j = 0; j < jobs.size(); ++j) {
    const MatmulJob& job = jobs[j];
    check_view(job.w, job.n_tokens, job.x, job.y);
    const GgmlType vec_type = vec_dot_type(job.w.type);
    PreparedBatchJob p{dot_tile_kernel(job.w.type), nullptr, converted_bytes,
                       static_cast<size_t>(job.w.cols) * sizeof(float)};
    if (vec_type == GgmlType::F32) {
      p.x = reinterpret_cast<const std::byte*>(job.x);
    } else {
      p.x_stride = activation_row_bytes(vec_type, job.w.cols);
      if (reuses_previous_activations(jobs, j)) {
        p.x_offset = prepared.back().x_offset;
      } else {
        for (int64_t t = 0; t < job.n_tokens; ++t) to_convert.emplace_back(j, t);
        converted_bytes += p.x_stride * static_cast<size_t>(job.n_tokens);
      }
    }
    prepared.push_back(p);
    if (job.w.rows == 0) continue;
    for (int64_t t0 = 0; t0 < job.n_tokens; t0 += kTileTokens) {
      for (int64_t r0 = 0; r0 < job.w.rows; r0 += kTileRows) {
        tiles.push_back({cost, j, r0, t0});
        cost += tile_cost(job.w, std::min(kTileRows, job.w.rows - r0),
                          std::min(kTileTokens, job.n_tokens - t0));
      }
    }
  }
  converted.resize(converted_bytes);
  return cost;
}

}  // namespace

void matmul_group(std::span<const MatmulJob> jobs, ThreadPool& pool) {
  // Scratch reused across calls; the workers reach the caller's through these references.
  thread_local BatchPlan plan_scratch;
  BatchPlan& plan = plan_scratch;
  const int64_t total_cost = plan_batch_jobs(jobs, plan);
  const std::vector<PreparedBatchJob>& prepared = plan.prepared;
  const std::vector<std::pair<size_t, int64_t>>& to_convert = plan.to_convert;
  const std::vector<BatchTile>& tiles = plan.tiles;
  std::vector<std::byte>& converted = plan.converted;
  int64_t max_cols = 1;
  for (const MatmulJob& job : jobs) max_cols = std::max(max_cols, job.w.cols);
  pool.parallel_for(
      static_cast<int64_t>(to_convert.size()),
      [&](int64_t begin, int64_t end, int) {
        for (int64_t i = begin; i < end; ++i) {
          const auto [j, t] = to_convert[static_cast<size_t>(i)];
          const MatmulJob& job = jobs[j];
          convert_activation_row(vec_dot_type(job.w.type), job.x + t * job.w.cols,
                                 converted.data() + prepared[j].x_offset + t * prepared[j].x_stride,
                                 job.w.cols);
        }
      },
      std::max<int64_t>(1, kMinMacsPerThread / 8 / max_cols));
  // One range of cost over all tiles: a range runs the tiles that start in it.
  // Ranges beyond the pool's usual 4 per thread only where each holds kGroupMinMacsPerExtraRange.
  // In double: a long prompt (--batch up to 2^20 tokens) on a wide model overflows int64 here.
  double total_macs = 1;
  for (const MatmulJob& job : jobs) {
    total_macs += static_cast<double>(job.w.rows) * static_cast<double>(job.w.cols) *
                  static_cast<double>(job.n_tokens);
  }
  const double cost = static_cast<double>(total_cost);
  const int64_t grain = std::max<int64_t>(
      1, static_cast<int64_t>(
             std::min(cost / (4.0 * pool.size()), cost * kGroupMinMacsPerExtraRange / total_macs)));
  pool.parallel_for(
      total_cost,
      [&](int64_t begin, int64_t end, int) {
        auto it =
            std::lower_bound(tiles.begin(), tiles.end(), begin,
                             [](const BatchTile& tile, int64_t c) { return tile.cost_begin < c; });
        for (; it != tiles.end() && it->cost_begin < end; ++it) {
          const MatmulJob& job = jobs[it->job];
          const PreparedBatchJob& p = prepared[it->job];
          const std::byte* x = p.x != nullptr ? p.x : converted.data() + p.x_offset;
          p.dot(DotTile{job.w.cols, job.w.data + it->r0 * job.w.row_bytes, job.w.row_bytes,
                        std::min(kTileRows, job.w.rows - it->r0), x + it->t0 * p.x_stride,
                        p.x_stride, std::min(kTileTokens, job.n_tokens - it->t0),
                        job.y + it->t0 * job.w.rows + it->r0, job.w.rows});
        }
      },
      grain, kGroupTileRangesPerThread);
}

bool matmul_batch_invariant(GgmlType type, int64_t n_tokens, MatmulPrecision precision) {
  const GgmlType math_type = precision == MatmulPrecision::Fast ? type : GgmlType::F32;
  return n_tokens <= 1 || !use_sgemm(math_type, n_tokens);
}

void set_batch_method(BatchMethod method) {
  g_batch_method.store(method, std::memory_order_relaxed);
}

float dot_f32(const float* a, const float* b, int64_t n) {
  static thread_local SimdLevel cached_level = SimdLevel::Scalar;
  static thread_local kernels::DotF32Fn fn = nullptr;
  if (fn == nullptr || cached_level != active_simd_level()) {
    cached_level = active_simd_level();
    fn = pick<kernels::DotF32Fn>([](const auto& k) { return k.dot_f32; });
  }
  return fn(a, b, n);
}

void axpy_f32(float a, const float* x, float* y, int64_t n) {
  static thread_local SimdLevel cached_level = SimdLevel::Scalar;
  static thread_local kernels::AxpyF32Fn fn = nullptr;
  if (fn == nullptr || cached_level != active_simd_level()) {
    cached_level = active_simd_level();
    fn = pick<kernels::AxpyF32Fn>([](const auto& k) { return k.axpy_f32; });
  }
  fn(a, x, y, n);
}

}  // namespace moescope
