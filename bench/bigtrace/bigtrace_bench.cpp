// The suitability analysis and the one-pass hit-rate curves on a big synthetic trace: wall time
// of each part and the process's peak RSS. A harness, not Google Benchmark: one run per call, so
// that A/B runs of two builds can be interleaved from the shell (docs/suitability.md, "Big
// traces"). The trace is bursty (Zipf with hot sets, inter-layer affinity), every token decode.
//
//   bench_bigtrace TOKENS [EXPERTS=64] [LAYERS=32] [TOP_K=8] [PART=all|curves|lru|opt|srp|coverage|sch|suitability]
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "engine/policy/access_stream.h"
#include "engine/policy/local_consistency.h"
#include "engine/policy/stack_curves.h"
#include "engine/policy/suitability.h"
#include "engine/policy/synthetic_trace.h"

namespace {

using namespace moescope::policy;

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// CPU time of the process (user + system): on a shared machine the wall time mostly measures
// the other processes.
double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

double peak_rss_mb() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return double(ru.ru_maxrss) / 1024.0;
}

template <typename F>
void timed(const char* what, F f) {
  const auto t0 = std::chrono::steady_clock::now();
  const double c0 = cpu_seconds();
  f();
  std::printf("%-24s wall %8.3f s  cpu %8.3f s  peak RSS %6.0f MB\n", what, seconds_since(t0),
              cpu_seconds() - c0, peak_rss_mb());
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_bigtrace TOKENS [EXPERTS] [LAYERS] [TOP_K] [PART]\n");
    return 2;
  }
  const int64_t tokens = std::atoll(argv[1]);
  const int32_t experts = argc > 2 ? std::atoi(argv[2]) : 64;
  const int32_t layers = argc > 3 ? std::atoi(argv[3]) : 32;
  const int32_t top_k = argc > 4 ? std::atoi(argv[4]) : 8;
  const std::string part = argc > 5 ? argv[5] : "all";
  auto wants = [&](const char* p) { return part == "all" || part == p; };

  RoutingTrace trace;
  timed("synthetic trace", [&] {
    trace = synthetic_trace({.kind = SyntheticSpec::Kind::kBursty,
                             .n_layers = layers,
                             .n_experts = experts,
                             .top_k = top_k,
                             .n_tokens = tokens,
                             .seed = 7,
                             .zipf_s = 0.8,
                             .burst_len = 32,
                             .affinity = 0.3});
  });
  std::printf("%lld tokens x %d layers x top-%d of %d experts\n",
              static_cast<long long>(tokens), layers, top_k, experts);
  double sink = 0;
  if (wants("curves") || wants("lru") || wants("opt")) {
    AccessStream stream;
    timed("access stream", [&] { stream = AccessStream::build(trace, {1}); });
    if (wants("curves") || wants("lru"))
      timed("lru curves", [&] { sink += lru_curves(stream, trace.shape).global.hit_rate(1); });
    if (wants("curves") || wants("opt"))
      timed("opt curves", [&] { sink += opt_curves(stream, trace.shape).global.hit_rate(1); });
  }
  if (wants("srp"))
    timed("srp m=4,16,64,256", [&] {
      for (int32_t m : {4, 16, 64, 256}) sink += segment_routing_performance(trace, m).model;
    });
  if (wants("coverage"))
    timed("coverage m=4,16,64,256", [&] {
      for (int32_t m : {4, 16, 64, 256}) sink += best_k_window_coverage(trace, m).mean_of_layers;
    });
  if (wants("sch"))
    timed("sch m=16 at 2k", [&] { sink += segment_cache_hit_rate(trace, 16, 2 * top_k).model; });
  if (wants("suitability"))
    timed("offloading_suitability", [&] { sink += offloading_suitability(trace).uniform_srp; });
  std::printf("(checksum %.6f)\n", sink);
  return 0;
}
