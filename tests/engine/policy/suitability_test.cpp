// Offloading suitability: SRP, SCH / LRU / OPT laws on random and Zipf traces, the break-even
// formula against a hand computation from the link presets, and the verdict's decision rule.
#include "engine/policy/suitability.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "engine/common/error.h"
#include "engine/policy/synthetic_trace.h"
#include "tests/engine/policy/policy_test_util.h"

namespace moescope::policy {
namespace {

using testing::make_trace;

SuitabilityOptions with_compute(int32_t n_layers, int64_t ns, const char* link = "nvme") {
  SuitabilityOptions o;
  o.link = LinkModel::preset(link);
  o.layer_compute_ns.assign(size_t(n_layers), ns);
  return o;
}

// Overall hit rate of a direct simulation (tokens one by one, `slots` in every layer).
double simulated_rate(const RoutingTrace& trace, const std::string& policy, int32_t slots) {
  return testing::run(trace, policy, CacheCapacity::uniform(trace.n_layers(), slots),
                      {.stream = {1}})
      .total()
      .hit_rate();
}

TEST(PolicySuitability, SrpOfARepeatedExpertSetIsOne) {
  // The same two experts every token, in alternating rank order.
  std::vector<std::vector<std::vector<int>>> r;
  for (int t = 0; t < 300; ++t)
    r.push_back({t % 2 ? std::vector<int>{3, 9} : std::vector<int>{9, 3}});
  const Suitability s = offloading_suitability(make_trace(r, 16), with_compute(1, 100'000));
  ASSERT_EQ(s.windows, (std::vector<int32_t>{4, 16, 64, 256}));
  for (const SrpScore& srp : s.srp) EXPECT_DOUBLE_EQ(srp.model, 1.0);
  EXPECT_DOUBLE_EQ(s.uniform_srp, 2.0 * 2 / (16 + 2));
}

TEST(PolicySuitability, SrpOfUniformRoutingApproachesItsFloor) {
  const RoutingTrace trace = synthetic_trace({.kind = SyntheticSpec::Kind::kUniform,
                                              .n_layers = 2,
                                              .n_experts = 16,
                                              .top_k = 2,
                                              .n_tokens = 4096,
                                              .seed = 11});
  SuitabilityOptions o = with_compute(2, 100'000);
  o.windows = {16, 64, 256, 1024};
  const Suitability s = offloading_suitability(trace, o);
  ASSERT_EQ(s.windows.size(), 4u);
  const double floor = 2.0 * 2 / (16 + 2);
  std::vector<double> gap;
  for (size_t i = 0; i < s.windows.size(); ++i) {
    // j = 0 (every expert predicted) scores 2k/(n+k): a law.
    EXPECT_GE(s.srp[i].model, floor);
    // Counts concentrate around m k/n, so no threshold separates experts any more.
    gap.push_back(s.srp[i].model - floor);
    EXPECT_LT(gap.back(), 1.0 / std::sqrt(double(s.windows[i]))) << "m = " << s.windows[i];
  }
  EXPECT_LT(gap[3], gap[1] / 2);  // m x 16 halves the gap at least
  EXPECT_LT(gap[3], 0.03);
}

// Laws between the oracles and LRU, at k and 2k slots, on traces of several kinds.
TEST(PolicySuitability, OptBoundsLruAndSchAndCurvesAreMonotone) {
  for (auto kind :
       {SyntheticSpec::Kind::kUniform, SyntheticSpec::Kind::kZipf, SyntheticSpec::Kind::kBursty}) {
    for (uint64_t seed : {1, 2, 3}) {
      const RoutingTrace trace = synthetic_trace({.kind = kind,
                                                  .n_layers = 3,
                                                  .n_experts = 16,
                                                  .top_k = 2,
                                                  .n_tokens = 600,
                                                  .n_prefill = 40,
                                                  .seed = seed});
      const Suitability s = offloading_suitability(trace, with_compute(3, 200'000));
      ASSERT_EQ(s.windows, (std::vector<int32_t>{4, 16, 64, 256}));
      for (const CapacityPoint& c : s.capacities) {
        SCOPED_TRACE(::testing::Message()
                     << "kind " << int(kind) << " seed " << seed << " " << c.multiple << "k");
        // The one-pass curves are the simulator's LRU and MIN exactly.
        EXPECT_DOUBLE_EQ(c.lru, simulated_rate(trace, "lru", c.slots[0]));
        EXPECT_DOUBLE_EQ(c.opt, simulated_rate(trace, "opt", c.slots[0]));
        const CacheCapacity pool = CacheCapacity::global_slots(uint64_t(c.total_slots));
        EXPECT_DOUBLE_EQ(c.lru_global,
                         testing::run(trace, "lru-global", pool, {.stream = {1}}).total().hit_rate());
        EXPECT_DOUBLE_EQ(c.opt_global,
                         testing::run(trace, "opt-global", pool, {.stream = {1}}).total().hit_rate());
        // MIN is optimal among demand-paging policies, online (LRU) or not (SCH), for per-layer
        // caches and for one global pool alike: the table's bound row is never below SCH.
        EXPECT_GE(c.opt, c.lru);
        EXPECT_GE(c.opt_global, c.lru_global);
        for (size_t w = 0; w < s.windows.size(); ++w) {
          EXPECT_GE(c.opt, c.sch[w].per_layer_caches) << "m = " << s.windows[w];
          EXPECT_GE(c.opt_global, c.sch[w].model) << "m = " << s.windows[w];
          // Same numbers as the engine's SCH(m, C) statistic.
          const SchScore direct = segment_cache_hit_rate(trace, s.windows[w], c.slots[0]);
          EXPECT_DOUBLE_EQ(c.sch[w].per_layer_caches, direct.per_layer_caches);
          EXPECT_DOUBLE_EQ(c.sch[w].model, direct.model);
        }
      }
      // LRU and MIN are stack algorithms: more slots never lose a hit.
      EXPECT_GE(s.capacities[1].lru, s.capacities[0].lru);
      EXPECT_GE(s.capacities[1].opt, s.capacities[0].opt);
      EXPECT_GE(s.capacities[1].opt_global, s.capacities[0].opt_global);
    }
  }
}

// SCH >= LRU is NOT a law: SCH counts uses in the segment, not how soon they come. With 2 slots
// and m = 5, at token 2 (expert 0 misses, {2, 3} resident) the segment [2, 7) = 0 3 0 2 2 holds
// expert 2 twice and 3 once after the running token, so SCH evicts 3, needed next; LRU evicts 2
// (least recent), needed only at token 5. By hand: SCH hits at tokens 5, 6; LRU at 3, 4, 6; OPT
// evicts 2 like LRU. (With m = 4 the segment [2, 6) holds 2 and 3 once each: SCH ties to LRU.)
TEST(PolicySuitability, SchCanLoseToLru) {
  const RoutingTrace trace = testing::reference_string({2, 3, 0, 3, 0, 2, 2}, 4);
  const CacheCapacity two = CacheCapacity::uniform(1, 2);
  EXPECT_EQ(testing::run(trace, "sch:5", two, {.stream = {1}}).total().hits, 2);
  EXPECT_EQ(testing::run(trace, "sch:4", two, {.stream = {1}}).total().hits, 3);
  EXPECT_EQ(testing::run(trace, "lru", two, {.stream = {1}}).total().hits, 3);
  EXPECT_EQ(testing::run(trace, "opt", two, {.stream = {1}}).total().hits, 3);
  EXPECT_NEAR(segment_cache_hit_rate(trace, 5, 2).model, 2.0 / 7.0, 1e-12);
}

TEST(PolicySuitability, BreakEvenByHandOnNvme) {
  // nvme: 7e9 B/s, 80 us per load. One expert of 1.4 MB: 80,000 + 1.4e6 / 7e9 s = 280,000 ns.
  // Six layers of top-2: L = 6 * 2 * 280,000 = 3,360,000 ns; C = 6 * 500,000 = 3,000,000 ns.
  // h* = 1 - C / L = 1 - 3.0 / 3.36 = 0.107142857...
  const MoeShape shape = MoeShape::uniform(6, 16, 2, 1'400'000);
  const BreakEven b = break_even(shape, LinkModel::preset("nvme"), std::vector<int64_t>(6, 500'000),
                                 ComputeOrigin::kGiven);
  EXPECT_EQ(b.transfer_ns, std::vector<int64_t>(6, 280'000));
  EXPECT_DOUBLE_EQ(b.link_ns_per_token, 3'360'000);
  EXPECT_DOUBLE_EQ(b.compute_ns_per_token, 3'000'000);
  EXPECT_NEAR(b.hit_rate, 1.0 - 3.0 / 3.36, 1e-12);
  for (double h : b.per_layer) EXPECT_NEAR(h, 1.0 - 500'000.0 / 560'000.0, 1e-12);
  // At h*, the link is as busy as compute: demand-only loads double the token time, overlapped
  // loads hide completely.
  EXPECT_NEAR(demand_slowdown(b, b.hit_rate), 2.0, 1e-12);
  EXPECT_NEAR(overlapped_slowdown(b, b.hit_rate), 1.0, 1e-12);
  EXPECT_GT(overlapped_slowdown(b, b.hit_rate - 0.05), 1.0);
  // sata-ssd: 550 MB/s, 100 us: tau = 100,000 + 2,545,455 (rounded up) ns.
  const BreakEven sata = break_even(shape, LinkModel::preset("sata-ssd"),
                                    std::vector<int64_t>(6, 500'000), ComputeOrigin::kGiven);
  EXPECT_EQ(sata.transfer_ns[0], 2'645'455);
  EXPECT_NEAR(sata.hit_rate, 1.0 - 500'000.0 / (2.0 * 2'645'455), 1e-12);
  // An unlimited link, or compute slower than every load: nothing to break even.
  EXPECT_EQ(break_even(shape, LinkModel::preset("none"), std::vector<int64_t>(6, 1),
                       ComputeOrigin::kGiven)
                .hit_rate,
            0.0);
  EXPECT_EQ(break_even(shape, LinkModel::preset("nvme"), std::vector<int64_t>(6, 600'000),
                       ComputeOrigin::kGiven)
                .hit_rate,
            0.0);
  EXPECT_THROW(break_even(shape, LinkModel::preset("nvme"), {1, 2}, ComputeOrigin::kGiven), Error);
}

TEST(PolicySuitability, ComputeComesFromTheTraceWhenMeasured) {
  RoutingTrace trace = synthetic_trace({.n_layers = 2, .n_tokens = 8, .n_prefill = 2});
  const Suitability assumed = offloading_suitability(trace);
  EXPECT_EQ(assumed.break_even.compute_origin, ComputeOrigin::kAssumed);
  EXPECT_EQ(assumed.break_even.compute_ns, std::vector<int64_t>(2, TimingModel{}.decode_layer_ns));
  trace.compute_ns.assign(size_t(trace.n_tokens()) * 2, 0);
  for (int64_t t = 0; t < trace.n_tokens(); ++t) {
    trace.compute_ns[size_t(t) * 2] = 1000 + t;  // prefill rows (t < 2) must not count
    trace.compute_ns[size_t(t) * 2 + 1] = t < 2 ? 9'999'999 : 3000;
  }
  EXPECT_EQ(measured_decode_compute(trace), (std::vector<int64_t>{1000 + 5, 3000}));  // 2..7
  const Suitability measured = offloading_suitability(trace);
  EXPECT_EQ(measured.break_even.compute_origin, ComputeOrigin::kMeasured);
  EXPECT_DOUBLE_EQ(measured.break_even.compute_ns_per_token, 4005);
}

// The verdict follows h* against LRU and OPT at k and 2k. h* is placed between the engine's
// own rates by choosing the compute time: c = (1 - h) * k * tau gives h* = h.
TEST(PolicySuitability, VerdictFollowsBreakEven) {
  const RoutingTrace zipf = synthetic_trace({.kind = SyntheticSpec::Kind::kZipf,
                                             .n_layers = 2,
                                             .n_experts = 16,
                                             .top_k = 2,
                                             .n_tokens = 800,
                                             .seed = 5});
  const LinkModel nvme = LinkModel::preset("nvme");
  const double tau = double(nvme.transfer_ns(zipf.shape.expert_bytes[0]));
  auto options_for = [&](double h) {
    SuitabilityOptions o;
    o.layer_compute_ns.assign(2, std::llround((1 - h) * 2 * tau));
    return o;
  };
  const Suitability base = offloading_suitability(zipf, options_for(0.5));
  const CapacityPoint& k2 = base.capacities[1];
  ASSERT_LT(k2.lru, k2.opt);

  SuitabilityOptions unlimited;
  unlimited.link = LinkModel::preset("none");
  EXPECT_EQ(offloading_suitability(zipf, unlimited).verdict, Verdict::kLinkNotBottleneck);
  EXPECT_EQ(offloading_suitability(zipf, options_for(k2.lru - 0.01)).verdict, Verdict::kWellSuited);
  const Suitability better = offloading_suitability(zipf, options_for((k2.lru + k2.opt) / 2));
  EXPECT_EQ(better.verdict, Verdict::kNeedsBetterPolicy);
  EXPECT_GT(*better.lru_slots_to_break_even, 4);
  EXPECT_LE(*better.opt_slots_to_break_even, 4);

  // Beyond 2k: the smallest LRU cache reaching h* is found by direct simulation too.
  const double h_large = (k2.opt + simulated_rate(zipf, "lru", 12)) / 2;
  const Suitability large = offloading_suitability(zipf, options_for(h_large));
  EXPECT_EQ(large.verdict, Verdict::kNeedsLargeCache);
  const int32_t c = *large.lru_slots_to_break_even;
  EXPECT_GE(simulated_rate(zipf, "lru", c), large.break_even.hit_rate);
  EXPECT_LT(simulated_rate(zipf, "lru", c - 1), large.break_even.hit_rate);
  EXPECT_LE(c, 12);

  // Cold misses alone (16 per layer in 1600 accesses) exceed 1 - h*: unsuited.
  const Suitability never = offloading_suitability(zipf, options_for(0.999));
  EXPECT_EQ(never.verdict, Verdict::kUnsuited);
  EXPECT_FALSE(never.lru_slots_to_break_even);
  EXPECT_FALSE(never.verdict_text.empty());
  EXPECT_EQ(never.reasons.size(), 5u);
}

TEST(PolicySuitability, RejectsWhatCannotBeAnalysed) {
  const RoutingTrace trace = synthetic_trace({.n_layers = 2, .n_tokens = 8, .n_prefill = 8});
  SuitabilityOptions decode, zero_window, one_layer, long_window;
  decode.filter = PhaseFilter::kDecode;
  zero_window.windows = {0};
  one_layer.layer_compute_ns = {1};
  long_window.windows = {4, 64};
  EXPECT_THROW(offloading_suitability(trace, decode), Error);
  EXPECT_THROW(offloading_suitability(trace, zero_window), Error);
  EXPECT_THROW(offloading_suitability(trace, one_layer), Error);
  // Windows longer than the trace are skipped.
  const Suitability s = offloading_suitability(trace, long_window);
  EXPECT_EQ(s.windows, std::vector<int32_t>{4});
}

}  // namespace
}  // namespace moescope::policy
