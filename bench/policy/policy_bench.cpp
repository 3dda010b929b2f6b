// Simulator throughput per policy and the cost of one-pass hit-rate curves, on a synthetic
// 100k-token bursty trace (16 MoE layers x 64 experts, top-4: 6.4M accesses).
#include <benchmark/benchmark.h>

#include <map>
#include <memory>

#include "engine/policy/policy_factory.h"
#include "engine/policy/prefetcher.h"
#include "engine/policy/simulator.h"
#include "engine/policy/stack_curves.h"
#include "engine/policy/synthetic_trace.h"

namespace moescope::policy {
namespace {

const RoutingTrace& trace(int64_t tokens) {
  static std::map<int64_t, std::unique_ptr<RoutingTrace>> cache;
  auto& t = cache[tokens];
  if (!t)
    t = std::make_unique<RoutingTrace>(synthetic_trace({.kind = SyntheticSpec::Kind::kBursty,
                                                        .n_layers = 16,
                                                        .n_experts = 64,
                                                        .top_k = 4,
                                                        .n_tokens = tokens,
                                                        .n_prefill = 512,
                                                        .seed = 7,
                                                        .zipf_s = 0.8,
                                                        .burst_len = 32,
                                                        .affinity = 0.3}));
  return *t;
}

void replay_policy(benchmark::State& state, const std::string& policy, const std::string& pf) {
  const RoutingTrace& t = trace(100'000);
  const RoutingTrace& history = trace(20'000);
  auto stream = std::make_shared<AccessStream>(AccessStream::build(t));
  const PolicySpec spec = parse_policy_spec(policy);
  const CacheCapacity cap = spec.pool == PoolKind::kGlobal ? CacheCapacity::global_slots(128)
                                                           : CacheCapacity::uniform(16, 8);
  double hit_rate = 0;
  for (auto _ : state) {
    CacheSimulator sim(t.shape, cap, make_policy(spec, {stream, &history}),
                       make_prefetcher(pf, {&history}), {LinkModel::preset("nvme")});
    hit_rate = replay(t, *stream, sim).phase[1].hit_rate();
  }
  state.SetItemsProcessed(state.iterations() * stream->size());
  state.counters["decode_hit_rate"] = hit_rate;
}

void register_all() {
  for (const char* p : {"on-demand", "lru", "lru-global", "fifo", "lfu:0.95", "random:1", "arc",
                        "arc-global", "mrs", "least-stale", "lookahead", "static-freq", "belady",
                        "belady-global", "opt", "sch:16", "stationary"})
    benchmark::RegisterBenchmark((std::string("Replay/") + p).c_str(), [p](benchmark::State& s) {
      replay_policy(s, p, "none");
    })->Unit(benchmark::kMillisecond);
  for (const char* pf : {"same-prev", "affinity:4", "freq:4:64", "path:4"})
    benchmark::RegisterBenchmark((std::string("Replay/lru+") + pf).c_str(),
                                 [pf](benchmark::State& s) { replay_policy(s, "lru", pf); })
        ->Unit(benchmark::kMillisecond);
}

void BM_LruCurves(benchmark::State& state) {
  const RoutingTrace& t = trace(state.range(0));
  const AccessStream s = AccessStream::build(t);
  for (auto _ : state) benchmark::DoNotOptimize(lru_curves(s, t.shape));
  state.SetItemsProcessed(state.iterations() * s.size());
}
BENCHMARK(BM_LruCurves)->Arg(100'000)->Unit(benchmark::kMillisecond);

void BM_OptCurves(benchmark::State& state) {
  const RoutingTrace& t = trace(state.range(0));
  const AccessStream s = AccessStream::build(t);
  for (auto _ : state) benchmark::DoNotOptimize(opt_curves(s, t.shape));
  state.SetItemsProcessed(state.iterations() * s.size());
}
BENCHMARK(BM_OptCurves)->Arg(10'000)->Arg(100'000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace moescope::policy

int main(int argc, char** argv) {
  moescope::policy::register_all();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
