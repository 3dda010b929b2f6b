// The suitability analysis and the one-pass hit-rate curves on a big synthetic trace: wall and CPU
// time of each part and the process's peak RSS. A harness, not Google Benchmark: one run per call,
// so that A/B runs of two builds can be interleaved from the shell (docs/suitability.md, "Big
// traces"). The trace is bursty (Zipf with hot sets, inter-layer affinity), every token decode.
//
//   bench_bigtrace TOKENS [EXPERTS=64] [LAYERS=32] [TOP_K=8]
//   [PART=all|curves|lru|opt|srp|coverage|sch|suitability]
#include <cstdio>
#include <cstdlib>
#include <string>

#include "bench/bigtrace/measure.h"
#include "engine/policy/access_stream.h"
#include "engine/policy/local_consistency.h"
#include "engine/policy/stack_curves.h"
#include "engine/policy/suitability.h"
#include "engine/policy/synthetic_trace.h"

int main(int argc, char** argv) {
  using namespace moescope::policy;
  using moescope::bench::timed;
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
  std::printf("%lld tokens x %d layers x top-%d of %d experts\n", static_cast<long long>(tokens),
              layers, top_k, experts);
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
