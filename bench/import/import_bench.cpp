// `moescope import`'s rate on a synthetic SGLang routed-experts JSONL file (one response per line,
// base64 int32 [tokens][layers][top_k]; skewed, with topics per request and inter-layer affinity:
// routed_workload.h): tokens imported per second, and the process's peak RSS, which stays bounded
// however long the file is (the file is streamed in two passes and written in batches). The
// default sizes are 100k and 1M tokens x 32 layers x top-8 of 128 experts (the 1M file is about
// 1.4 GB). The file is kept in $TMPDIR/moescope-bench-import between runs.
//
//   bench_import --benchmark_filter='/100000'     (quick)
//   /usr/bin/time -v bench_import --benchmark_filter='/1000000'
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "bench/import/routed_workload.h"
#include "storage/import/importer.h"

namespace {

namespace fs = std::filesystem;
using namespace moescope::storage::import;

constexpr int kLayers = 32, kTopK = 8, kExperts = 128;

void BM_ImportRoutedExperts(benchmark::State& state) {
  const int64_t tokens = state.range(0);
  const fs::path dir = fs::temp_directory_path() / "moescope-bench-import";
  fs::create_directories(dir);
  const fs::path in = dir / ("routed-" + std::to_string(tokens) + ".jsonl");
  if (!fs::exists(in)) {
    moescope::bench::write_routed_workload(
        in, {.tokens = tokens, .layers = kLayers, .experts = kExperts, .top_k = kTopK});
  }
  const fs::path trace = dir / "import.sqlite";
  for (auto _ : state) {
    fs::remove(trace);
    ImportOptions o;
    o.format = ImportFormat::kRoutedExperts;
    o.in = in;
    o.trace = trace;
    o.layers = kLayers;
    o.topk = kTopK;
    const ImportResult r = import_routing(o);
    benchmark::DoNotOptimize(r.run);
  }
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  state.counters["tokens_per_s"] =
      benchmark::Counter(double(tokens) * double(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["file_MB"] = double(fs::file_size(in)) / 1e6;
  state.counters["MB_per_s"] = benchmark::Counter(
      double(fs::file_size(in)) / 1e6 * double(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["trace_MB"] = double(fs::file_size(trace)) / 1e6;
  state.counters["peak_rss_MB"] = double(ru.ru_maxrss) / 1024.0;
  fs::remove(trace);
}
BENCHMARK(BM_ImportRoutedExperts)
    ->Arg(100000)
    ->Arg(1000000)
    ->Iterations(1)
    ->MeasureProcessCPUTime()  // the writer thread too; rates per CPU second
    ->Unit(benchmark::kSecond);

}  // namespace
BENCHMARK_MAIN();
