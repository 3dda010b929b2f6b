// The desktop app's analysis of a big trace, off the GUI thread: views::analyse (the policies
// replayed, the one-pass curves, routing statistics, affinity) and the Suitability panel's
// run_suitability, on a synthetic bursty trace. Wall and CPU time of each (and when each stage of
// the analysis arrived: what the first views wait for) and the peak RSS; one run per call so that
// two builds can be interleaved from the shell.
//
//   bench_bigtrace_analysis TOKENS [EXPERTS=64] [LAYERS=32] [TOP_K=8]
#include <chrono>
#include <cstdio>
#include <memory>

#include "bench/bigtrace/bursty_trace.h"
#include "bench/bigtrace/measure.h"
#include "views/session/analysis.h"
#include "views/suitability/run_suitability.h"

int main(int argc, char** argv) {
  using namespace moescope;
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_bigtrace_analysis TOKENS [EXPERTS] [LAYERS] [TOP_K]\n");
    return 2;
  }
  const bench::BigTraceShape shape = bench::BigTraceShape::from_args(argc, argv);
  const policy::RoutingTrace trace = bench::bursty_trace(shape, 256);
  std::printf("%lld tokens x %d layers x top-%d of %d experts\n",
              static_cast<long long>(shape.tokens), shape.layers, shape.top_k, shape.experts);
  std::shared_ptr<views::AnalysisResult> analysis;
  const auto t0 = std::chrono::steady_clock::now();
  const double c0 = bench::cpu_seconds();
  bench::timed("analyse (default settings)", [&] {
    analysis = views::analyse(
        trace, views::CacheSettings{}, nullptr,
        [&](std::shared_ptr<const views::AnalysisResult> stage) {
          std::printf("  stage 0x%x after    wall %8.3f s  cpu %8.3f s\n", stage->parts,
                      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(),
                      bench::cpu_seconds() - c0);
        });
  });
  std::shared_ptr<const policy::Suitability> suitability;
  bench::timed("run_suitability (nvme)",
               [&] { suitability = views::run_suitability(trace, QStringLiteral("nvme")); });
  std::printf("(checksum %.6f)\n", analysis->lru_curves.global.hit_rate(1) +
                                       (suitability ? suitability->uniform_srp : 0.0));
  return 0;
}
