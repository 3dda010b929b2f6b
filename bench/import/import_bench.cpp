// `moescope import`'s rate on a synthetic SGLang routed-experts JSONL file (one response per line,
// base64 int32 [tokens][layers][top_k]): tokens imported per second, and the process's peak RSS,
// which stays bounded however long the file is (the file is streamed in two passes and written in
// batches). The default sizes are 100k and 1M tokens x 32 layers x top-8 of 256 experts, in
// requests of 1000 tokens (the 1M file is about 1.4 GB, its trace about 2.3 GB).
//
//   bench_import --benchmark_filter='/100000'     (quick)
//   /usr/bin/time -v bench_import --benchmark_filter='/1000000'
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "storage/import/importer.h"

namespace {

namespace fs = std::filesystem;
using namespace moescope::storage::import;

constexpr int kLayers = 32, kTopK = 8, kExperts = 256, kRequestTokens = 1000;

std::string base64(const uint8_t* b, size_t n) {
  static const char* c = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((n + 2) / 3 * 4);
  for (size_t i = 0; i < n; i += 3) {
    const uint32_t v = uint32_t(b[i]) << 16 | (i + 1 < n ? uint32_t(b[i + 1]) << 8 : 0) |
                       (i + 2 < n ? uint32_t(b[i + 2]) : 0);
    out += c[(v >> 18) & 63];
    out += c[(v >> 12) & 63];
    out += i + 1 < n ? c[(v >> 6) & 63] : '=';
    out += i + 2 < n ? c[v & 63] : '=';
  }
  return out;
}

// Writes the file line by line (never whole in memory); skewed expert popularity.
void write_file(const fs::path& path, int64_t tokens) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  std::mt19937 rng(42);
  std::vector<int32_t> ids;
  for (int64_t done = 0, r = 0; done < tokens; ++r) {
    const int64_t n = std::min<int64_t>(kRequestTokens, tokens - done);
    ids.clear();
    for (int64_t t = 0; t < n; ++t) {
      for (int l = 0; l < kLayers; ++l) {
        int32_t chosen[kTopK];
        for (int k = 0; k < kTopK;) {
          // Zipf-like: low ids more often.
          const auto e = int32_t(std::min<double>(kExperts - 1,
                                                  std::pow(double(rng() % 65536) / 65536.0, 2.0) *
                                                      kExperts));
          bool dup = false;
          for (int j = 0; j < k; ++j) dup = dup || chosen[j] == e;
          if (!dup) chosen[k++] = e;
        }
        ids.insert(ids.end(), chosen, chosen + kTopK);
      }
    }
    const std::string b64 =
        base64(reinterpret_cast<const uint8_t*>(ids.data()), ids.size() * sizeof(int32_t));
    std::fprintf(f,
                 "{\"meta_info\":{\"id\":\"r%lld\",\"prompt_tokens\":%d,\"completion_tokens\":%lld,"
                 "\"routed_experts\":\"%s\"}}\n",
                 static_cast<long long>(r), 200, static_cast<long long>(n - 200 + 1), b64.c_str());
    done += n;
  }
  std::fclose(f);
}

void BM_ImportRoutedExperts(benchmark::State& state) {
  const int64_t tokens = state.range(0);
  const fs::path dir = fs::temp_directory_path() / "moescope-bench-import";
  fs::create_directories(dir);
  const fs::path in = dir / ("routed-" + std::to_string(tokens) + ".jsonl");
  if (!fs::exists(in)) write_file(in, tokens);
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
  state.counters["trace_MB"] = double(fs::file_size(trace)) / 1e6;
  state.counters["peak_rss_MB"] = double(ru.ru_maxrss) / 1024.0;
  fs::remove(trace);
}
BENCHMARK(BM_ImportRoutedExperts)->Arg(100000)->Arg(1000000)->Iterations(1)->Unit(benchmark::kSecond);

}  // namespace
BENCHMARK_MAIN();
