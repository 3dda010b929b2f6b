// The suitability analysis and the one-pass hit-rate curves on a big synthetic trace: wall and CPU
// time of each part and the process's peak RSS. A harness, not Google Benchmark: one run per call,
// so that A/B runs of two builds can be interleaved from the shell (docs/suitability.md, "Big
// traces"). The trace is bursty (Zipf with hot sets, inter-layer affinity), every token decode.
//
//   bench_bigtrace TOKENS [EXPERTS=64] [LAYERS=32] [TOP_K=8]
//   [PART=all|curves|lru|opt|srp|coverage|sch|suitability]
#include <cstdio>
#include <string>

#include "bench/bigtrace/bursty_trace.h"
#include "bench/bigtrace/measure.h"
#include "engine/policy/access_stream.h"
#include "engine/policy/local_consistency.h"
#include "engine/policy/stack_curves.h"
#include "engine/policy/suitability.h"

int main(int argc, char** argv) {
  using namespace moescope::policy;
  using moescope::bench::timed;
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_bigtrace TOKENS [EXPERTS] [LAYERS] [TOP_K] [PART]\n");
    return 2;
  }
  const moescope::bench::BigTraceShape shape =
      moescope::bench::BigTraceShape::from_args(argc, argv);
  const std::string part = argc > 5 ? argv[5] : "all";
  auto wants = [&](const char* p) { return part == "all" || part == p; };

  RoutingTrace trace;
  timed("synthetic trace", [&] { trace = moescope::bench::bursty_trace(shape, 0); });
  std::printf("%lld tokens x %d layers x top-%d of %d experts\n",
              static_cast<long long>(shape.tokens), shape.layers, shape.top_k, shape.experts);
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
    timed("sch m=16 at 2k",
          [&] { sink += segment_cache_hit_rate(trace, 16, 2 * shape.top_k).model; });
  if (wants("suitability"))
    timed("offloading_suitability", [&] { sink += offloading_suitability(trace).uniform_srp; });
  std::printf("(checksum %.6f)\n", sink);
  return 0;
}
