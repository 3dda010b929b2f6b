// Matmul kernels: decode (one token, memory-bound: GB/s of weights read) and prefill (512 tokens,
// compute-bound: GFLOP/s), per weight type and SIMD level, on a 4096x4096 matrix and on the
// shapes of the reference models. Short runs: bench_kernels --benchmark_min_time=0.2
#include <benchmark/benchmark.h>

#include <cstring>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "engine/tensor/cpu_features.h"
#include "engine/tensor/matmul.h"
#include "engine/tensor/matvec_group.h"
#include "engine/tensor/quantize.h"

namespace moescope {
namespace {

constexpr GgmlType kTypes[] = {GgmlType::F32,   GgmlType::F16,  GgmlType::BF16, GgmlType::Q8_0,
                               GgmlType::Q4_0,  GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1,
                               GgmlType::MXFP4, GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K};

struct Weights {
  std::vector<std::byte> data;
  WeightView view;
};

Weights make_weights(GgmlType type, int64_t rows, int64_t cols) {
  std::mt19937 rng(42);
  std::normal_distribution<float> normal(0.0f, 0.05f);
  std::vector<float> row(cols);
  const size_t row_bytes = ggml_row_bytes(ggml_type_traits(type), cols);
  Weights w{std::vector<std::byte>(row_bytes * rows), {}};
  for (int64_t r = 0; r < rows; ++r) {
    for (auto& v : row) v = normal(rng);
    quantize_row(type, row.data(), w.data.data() + r * row_bytes, cols);
  }
  w.view = {type, w.data.data(), rows, cols, row_bytes};
  return w;
}

std::vector<float> make_activations(int64_t n, int64_t cols) {
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(n * cols);
  for (auto& v : x) v = normal(rng);
  return x;
}

// Args: rows, cols, tokens, threads.
void BM_Matmul(benchmark::State& state, GgmlType type, SimdLevel level, BatchMethod method,
               MatmulPrecision precision) {
  const int64_t rows = state.range(0), cols = state.range(1), n = state.range(2);
  const int threads = static_cast<int>(state.range(3));
  if (level > detected_simd_level()) {
    state.SkipWithError("SIMD level not available");
    return;
  }
  set_simd_level(level);
  set_batch_method(method);
  const Weights w = make_weights(type, rows, cols);
  const std::vector<float> x = make_activations(n, cols);
  std::vector<float> y(n * rows);
  ThreadPool pool(threads);
  for (auto _ : state) {
    matmul(w.view, x.data(), n, y.data(), pool, precision);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  const double iters = static_cast<double>(state.iterations());
  state.counters["GB/s"] = benchmark::Counter(static_cast<double>(w.data.size()) * iters / 1e9,
                                              benchmark::Counter::kIsRate);
  state.counters["GFLOP/s"] =
      benchmark::Counter(2.0 * rows * cols * n * iters / 1e9, benchmark::Counter::kIsRate);
  set_simd_level(detected_simd_level());
  set_batch_method(BatchMethod::Auto);
}

// Args: tokens per expert, threads. One projection of a realistic MoE layer in a prompt (64
// experts' 1024x2048 gate matrices, 143 MB at Q8_0: more than L3, so each expert's weights come
// from memory, as in a forward pass) through matmul_group, every expert with the same few tokens.
// The experts are copies of one quantized matrix (a K-quant's scale search for 134 M values would
// take minutes); the bytes read and the kernels' work are those of distinct experts.
void BM_MoeLayer(benchmark::State& state, GgmlType type) {
  constexpr int64_t kExperts = 64, kRows = 1024, kCols = 2048;
  const int64_t n = state.range(0);
  const int threads = static_cast<int>(state.range(1));
  const Weights one = make_weights(type, kRows, kCols);
  std::vector<std::byte> all(one.data.size() * kExperts);
  for (int64_t e = 0; e < kExperts; ++e) {
    std::memcpy(all.data() + e * one.data.size(), one.data.data(), one.data.size());
  }
  const std::vector<float> x = make_activations(n * kExperts, kCols);
  std::vector<float> y(n * kRows * kExperts);
  std::vector<MatmulJob> jobs;
  for (int64_t e = 0; e < kExperts; ++e) {
    WeightView w = one.view;
    w.data = all.data() + e * one.data.size();
    jobs.push_back({w, x.data() + e * n * kCols, n, y.data() + e * n * kRows});
  }
  ThreadPool pool(threads);
  for (auto _ : state) {
    matmul_group(jobs, pool);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  const double iters = static_cast<double>(state.iterations());
  state.counters["GB/s"] = benchmark::Counter(static_cast<double>(all.size()) * iters / 1e9,
                                              benchmark::Counter::kIsRate);
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * kRows * kCols * n * kExperts * iters / 1e9,
                                                 benchmark::Counter::kIsRate);
}

// Args: threads. The decode step of a realistic MoE layer (n_embd 2048, expert ff 1024, top-8) as
// moe_block_decode runs it: the 8 selected experts' up and gate products in one matvec_group,
// then their 8 down products in another. Each iteration takes the next 8 of a ring of experts
// holding more than 256 MiB, so every weight byte comes from memory as in a decoded token; GB/s
// is directly comparable with bench_realistic --bandwidth. (Copies of one quantized expert: see
// BM_MoeLayer.)
void BM_MoeDecode(benchmark::State& state, GgmlType type) {
  constexpr int64_t kTopK = 8, kRows = 1024, kCols = 2048;
  constexpr size_t kRingBytes = size_t{320} << 20;
  const int threads = static_cast<int>(state.range(0));
  const Weights gate = make_weights(type, kRows, kCols);
  const Weights down = make_weights(type, kCols, kRows);
  const size_t expert_bytes = 2 * gate.data.size() + down.data.size();  // [gate | up | down]
  const int64_t n_experts = (kRingBytes / expert_bytes + kTopK) / kTopK * kTopK;
  std::vector<std::byte> ring(expert_bytes * n_experts);
  for (int64_t e = 0; e < n_experts; ++e) {
    std::byte* p = ring.data() + e * expert_bytes;
    std::memcpy(p, gate.data.data(), gate.data.size());
    std::memcpy(p + gate.data.size(), gate.data.data(), gate.data.size());
    std::memcpy(p + 2 * gate.data.size(), down.data.data(), down.data.size());
  }
  const std::vector<float> x = make_activations(1, kCols);
  std::vector<float> gate_y(kTopK * kRows), up_y(kTopK * kRows), down_y(kTopK * kCols);
  std::vector<MatvecJob> up_jobs, down_jobs;
  ThreadPool pool(threads);
  int64_t next = 0;
  for (auto _ : state) {
    up_jobs.clear();
    down_jobs.clear();
    for (int64_t i = 0; i < kTopK; ++i) {
      const std::byte* p = ring.data() + (next + i) * expert_bytes;
      WeightView g = gate.view, u = gate.view, d = down.view;
      g.data = p;
      u.data = p + gate.data.size();
      d.data = p + 2 * gate.data.size();
      up_jobs.push_back({u, x.data(), &up_y[i * kRows]});
      up_jobs.push_back({g, x.data(), &gate_y[i * kRows]});
      down_jobs.push_back({d, &up_y[i * kRows], &down_y[i * kCols]});
    }
    next = (next + kTopK) % n_experts;
    matvec_group(up_jobs, pool);
    matvec_group(down_jobs, pool);
    benchmark::DoNotOptimize(down_y.data());
    benchmark::ClobberMemory();
  }
  const double iters = static_cast<double>(state.iterations());
  state.counters["GB/s"] = benchmark::Counter(
      static_cast<double>(expert_bytes * kTopK) * iters / 1e9, benchmark::Counter::kIsRate);
}

std::string level_tag(SimdLevel level) {
  return std::string(simd_level_name(level));
}

void register_all() {
  const SimdLevel best = detected_simd_level();
  for (GgmlType type : kTypes) {
    const std::string name(ggml_type_name(type));
    // Decode: every SIMD level on 4096x4096, 1 and 2 threads.
    for (SimdLevel level : {SimdLevel::Scalar, SimdLevel::Avx2, SimdLevel::Avx512}) {
      if (level > best) continue;
      benchmark::RegisterBenchmark(("decode/" + name + "/" + level_tag(level)).c_str(), BM_Matmul,
                                   type, level, BatchMethod::Auto, MatmulPrecision::Fast)
          ->Args({4096, 4096, 1, 1})
          ->Args({4096, 4096, 1, 2})
          ->UseRealTime()
          ->Unit(benchmark::kMicrosecond);
    }
    // Reference-model shapes (rows = ne1, cols = ne0): expert 64x128 / 128x64, attention 128x128,
    // output 4096x128 (llama-moe); k256 models: 128x256, 256x256, 4096x256.
    const bool k_quant = ggml_type_traits(type).block_size == 256;
    auto* tiny = benchmark::RegisterBenchmark(("decode-ref/" + name).c_str(), BM_Matmul, type, best,
                                              BatchMethod::Auto, MatmulPrecision::Fast);
    if (!k_quant) tiny->Args({64, 128, 1, 1})->Args({128, 128, 1, 1})->Args({4096, 128, 1, 2});
    tiny->Args({128, 256, 1, 1})->Args({256, 256, 1, 1})->Args({4096, 256, 1, 2});
    tiny->UseRealTime()->Unit(benchmark::kMicrosecond);
    // Prefill, 512 tokens: both batch methods.
    for (auto [method, tag] : {std::pair{BatchMethod::DotKernels, "dot"},
                               std::pair{BatchMethod::DequantSgemm, "sgemm"}}) {
      auto* b = benchmark::RegisterBenchmark(("prefill/" + name + "/" + tag).c_str(), BM_Matmul,
                                             type, best, method, MatmulPrecision::Fast);
      b->Args({4096, 4096, 512, 2})->Args({4096, 256, 512, 2});
      if (!k_quant) b->Args({4096, 128, 512, 2});
      b->Args({256, 256, 512, 1});
      // One expert's share of a 512-token batch (8 experts, top-1).
      b->Args(k_quant ? std::vector<int64_t>{64, 256, 64, 1}
                      : std::vector<int64_t>{64, 128, 64, 1});
      b->UseRealTime()->Unit(benchmark::kMillisecond);
    }
  }
  // One expert's share of a reference model's 512-token prefill (llama-moe-k256: 4 experts top-2,
  // 256 tokens on 256x256; gpt-oss: 8 experts top-4, 256 tokens on 64x64) for the transposed-strip
  // kernels (Q4_K, MXFP4; Q6_K's row kernel for comparison), and Q4_K's small batches around the
  // point (2 tokens) where the strip kernel takes over from the row-by-row one.
  for (auto [type, args] : {std::pair{GgmlType::Q4_K, std::vector<int64_t>{256, 256, 256, 1}},
                            std::pair{GgmlType::Q4_K, std::vector<int64_t>{256, 256, 2, 1}},
                            std::pair{GgmlType::Q4_K, std::vector<int64_t>{256, 256, 3, 1}},
                            std::pair{GgmlType::Q4_K, std::vector<int64_t>{256, 256, 8, 1}},
                            std::pair{GgmlType::Q6_K, std::vector<int64_t>{256, 256, 256, 1}},
                            std::pair{GgmlType::MXFP4, std::vector<int64_t>{64, 64, 256, 1}}}) {
    benchmark::RegisterBenchmark(("expert/" + std::string(ggml_type_name(type))).c_str(), BM_Matmul,
                                 type, best, BatchMethod::Auto, MatmulPrecision::Fast)
        ->Args(args)
        ->UseRealTime()
        ->Unit(benchmark::kMicrosecond);
  }
  // One expert of the realistic models (bench/realistic: n_embd 2048, expert ff 1024, 64 experts
  // top-8) in a prompt: gate/up 1024x2048, down 2048x1024, with the few tokens each expert gets
  // (pp32: ~4, pp256: ~32). CPU time, one thread: on a shared machine that is the stable figure.
  for (GgmlType type : {GgmlType::Q8_0, GgmlType::Q4_K}) {
    auto* b = benchmark::RegisterBenchmark(
        ("moe-expert/" + std::string(ggml_type_name(type))).c_str(), BM_Matmul, type, best,
        BatchMethod::Auto, MatmulPrecision::Fast);
    for (int64_t n : {1, 2, 3, 4, 5, 6, 7, 8, 32}) b->Args({1024, 2048, n, 1});
    b->Args({2048, 1024, 4, 1})->Unit(benchmark::kMicrosecond);
  }
  // A whole projection of a realistic MoE layer in a prompt, weights from memory (BM_MoeLayer);
  // wall time, so that the 2-thread rate shows how the threads share the work.
  for (GgmlType type : {GgmlType::Q8_0, GgmlType::Q4_K}) {
    auto* b = benchmark::RegisterBenchmark(
        ("moe-layer/" + std::string(ggml_type_name(type))).c_str(), BM_MoeLayer, type);
    for (int64_t n : {1, 4, 8}) b->Args({n, 1})->Args({n, 2});
    b->UseRealTime()->Unit(benchmark::kMillisecond);
  }
  // One decode layer's experts streamed from memory (BM_MoeDecode), wall time.
  for (GgmlType type : {GgmlType::Q8_0, GgmlType::Q4_K}) {
    benchmark::RegisterBenchmark(("moe-decode/" + std::string(ggml_type_name(type))).c_str(),
                                 BM_MoeDecode, type)
        ->Arg(1)
        ->Arg(2)
        ->UseRealTime()
        ->Unit(benchmark::kMicrosecond);
  }
  // The exact path (reference for --exact), decode and prefill.
  for (GgmlType type : {GgmlType::Q8_0, GgmlType::Q4_K}) {
    benchmark::RegisterBenchmark(("exact/" + std::string(ggml_type_name(type))).c_str(), BM_Matmul,
                                 type, best, BatchMethod::Auto, MatmulPrecision::Exact)
        ->Args({4096, 4096, 1, 2})
        ->Args({4096, 4096, 512, 2})
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
  }
}

}  // namespace
}  // namespace moescope

int main(int argc, char** argv) {
  moescope::register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
