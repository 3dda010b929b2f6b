// Scale of the placement study: one pass of statistics and one simulation pass over a synthetic
// routing of up to 1 M tokens x 32 MoE layers x top-8 of 128 experts, streamed (generated per
// token, never stored), plus fitting every placement on the gathered statistics.
//   ./build/bench/placement/bench_placement --benchmark_filter=.
#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <vector>

#include "engine/placement/affinity.h"
#include "engine/placement/contiguous.h"
#include "engine/placement/ep_simulator.h"
#include "engine/placement/eplb.h"
#include "engine/placement/expert_statistics.h"
#include "engine/placement/joint.h"

namespace moescope::placement {
namespace {

constexpr int32_t kLayers = 32, kExperts = 128, kTopK = 8;

// Skewed routing with inter-layer affinity, generated token by token from a counter-based hash.
class SyntheticSource final : public RoutingSource {
 public:
  explicit SyntheticSource(int64_t tokens) : tokens_(tokens), n_experts_(kLayers, kExperts) {}
  int64_t n_tokens() const override { return tokens_; }
  const std::vector<int32_t>& n_experts() const override { return n_experts_; }
  void visit(TokenSpan span, const std::function<void(const TokenRoute&)>& visit) const override {
    std::array<int64_t, kLayers + 1> offsets{};
    for (int32_t l = 0; l <= kLayers; ++l) offsets[size_t(l)] = int64_t(l) * kTopK;
    std::array<ExpertId, kLayers * kTopK> experts{};
    TokenRoute route;
    route.offsets = offsets.data();
    route.base = experts.data();
    for (int64_t t = span.begin; t < span.end; ++t) {
      uint64_t state = uint64_t(t) * 0x9E3779B97F4A7C15ull + 1;
      int32_t previous = int32_t(next(state) % kExperts);
      for (int32_t l = 0; l < kLayers; ++l) {
        ExpertId* out = experts.data() + size_t(l) * kTopK;
        int32_t n = 0;
        // Top-1 follows the previous layer's top-1 half of the time.
        int32_t first = next(state) % 2 ? (previous * 5 + 3) % kExperts : skewed(state);
        out[n++] = ExpertId(first);
        previous = first;
        while (n < kTopK) {
          const int32_t e = skewed(state);
          bool seen = false;
          for (int32_t i = 0; i < n; ++i) seen |= out[i].value == e;
          if (!seen) out[n++] = ExpertId(e);
        }
      }
      route.index = t;
      route.request = RequestId{t / 512};
      route.step = t / 256;
      visit(route);
    }
  }

 private:
  static uint64_t next(uint64_t& s) {
    s ^= s << 13, s ^= s >> 7, s ^= s << 17;
    return s;
  }
  // The smaller of two uniform draws: expert e has probability ~ (2 (E - e) - 1) / E^2.
  static int32_t skewed(uint64_t& s) {
    const int32_t a = int32_t(next(s) % kExperts), b = int32_t(next(s) % kExperts);
    return a < b ? a : b;
  }
  int64_t tokens_;
  std::vector<int32_t> n_experts_;
};

void BM_GatherStatistics(benchmark::State& state) {
  const SyntheticSource source(state.range(0));
  for (auto _ : state) {
    const ExpertStatistics s = gather_statistics(source, {0, source.n_tokens()});
    benchmark::DoNotOptimize(s.tokens);
  }
  state.counters["tokens/s"] =
      benchmark::Counter(double(state.range(0)) * double(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_GatherStatistics)->Arg(1 << 16)->Arg(1 << 20)->Unit(benchmark::kSecond)->Iterations(1);

void BM_FitPlacements(benchmark::State& state) {
  const SyntheticSource source(1 << 16);
  const ExpertStatistics stats = gather_statistics(source, {0, source.n_tokens()});
  const Topology topo{.devices = 8, .nodes = 2};
  for (auto _ : state) {
    const Placement eplb = eplb_placement(stats.load, topo, 16, std::nullopt);
    const AffinityResult affinity = affinity_placement(stats, topo);
    const JointResult joint = joint_placement(stats, topo, 0.2);
    benchmark::DoNotOptimize(eplb.layers.size() + affinity.placement.layers.size() +
                             joint.placement.layers.size());
  }
}
BENCHMARK(BM_FitPlacements)->Unit(benchmark::kSecond)->Iterations(1);

void BM_SimulateFourPlacements(benchmark::State& state) {
  const SyntheticSource source(state.range(0));
  const ExpertStatistics stats = gather_statistics(SyntheticSource(1 << 14), {0, 1 << 14});
  const Topology topo{.devices = 8, .nodes = 2};
  const std::vector<Placement> placements{
      contiguous_placement(stats.n_experts, topo, 0), eplb_placement(stats.load, topo, 16, std::nullopt),
      affinity_placement(stats, topo).placement, joint_placement(stats, topo, 0.2).placement};
  for (auto _ : state) {
    const auto m = simulate(source, {0, source.n_tokens()}, placements, SimOptions{});
    benchmark::DoNotOptimize(m.size());
  }
  state.counters["tokens/s"] =
      benchmark::Counter(double(state.range(0)) * double(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SimulateFourPlacements)->Arg(1 << 16)->Arg(1 << 20)->Unit(benchmark::kSecond)->Iterations(1);

}  // namespace
}  // namespace moescope::placement
BENCHMARK_MAIN();
