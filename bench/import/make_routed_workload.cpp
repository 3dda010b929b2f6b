// Writes the synthetic routed-experts workload of routed_workload.h to a file, for importing it
// with `moescope import --format routed-experts` and timing the commands that follow (docs/
// suitability.md, "Big traces"):
//
//   bench_make_routed_workload OUT.jsonl TOKENS [EXPERTS=128] [LAYERS=32] [TOP_K=8]
#include <cstdio>
#include <cstdlib>
#include <exception>

#include "bench/import/routed_workload.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr,
                 "usage: bench_make_routed_workload OUT.jsonl TOKENS [EXPERTS] [LAYERS] [TOP_K]\n");
    return 2;
  }
  moescope::bench::RoutedWorkloadShape s;
  s.tokens = std::atoll(argv[2]);
  if (argc > 3) s.experts = std::atoi(argv[3]);
  if (argc > 4) s.layers = std::atoi(argv[4]);
  if (argc > 5) s.top_k = std::atoi(argv[5]);
  if (s.tokens < 1 || s.experts < 1 || s.layers < 1 || s.top_k < 1) {
    std::fprintf(stderr, "bench_make_routed_workload: sizes must be positive\n");
    return 2;
  }
  try {
    const int64_t requests = moescope::bench::write_routed_workload(argv[1], s);
    std::printf("%s: %lld requests, %lld tokens x %d layers x top-%d of %d experts\n", argv[1],
                static_cast<long long>(requests), static_cast<long long>(s.tokens), s.layers,
                s.top_k, s.experts);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_make_routed_workload: %s\n", e.what());
    return 1;
  }
  return 0;
}
