// Sanity laws on random and structured traces: Belady bounds every exact policy; replay equals
// a live feed; the cache never exceeds its capacity and a mirror of its actions stays in sync.
#include <gtest/gtest.h>

#include <set>

#include "engine/policy/policies.h"
#include "engine/policy/synthetic_trace.h"
#include "tests/engine/policy/policy_test_util.h"

namespace moescope::policy {
namespace {

using testing::hits;
using testing::run;

std::vector<RoutingTrace> traces() {
  std::vector<RoutingTrace> out;
  using K = SyntheticSpec::Kind;
  uint64_t seed = 100;
  for (K kind : {K::kUniform, K::kZipf, K::kBursty})
    for (int shape = 0; shape < 2; ++shape)
      out.push_back(synthetic_trace({.kind = kind,
                                     .n_layers = 3,
                                     .n_experts = shape ? 16 : 6,
                                     .top_k = shape ? 4 : 2,
                                     .n_tokens = 160,
                                     .n_prefill = shape ? 24 : 0,
                                     .seed = ++seed,
                                     .zipf_s = 1.1,
                                     .burst_len = 8,
                                     .affinity = 0.5,
                                     .with_probs = shape == 1}));
  return out;
}

TEST(PolicyProperties, BeladyBoundsEveryExactPolicyPerLayer) {
  const std::vector<RoutingTrace> all = traces();
  const RoutingTrace history =
      synthetic_trace({.n_layers = 3, .n_experts = 16, .top_k = 4, .n_tokens = 100, .seed = 9});
  testing::RunOptions o;
  for (const RoutingTrace& t : all) {
    const int E = t.shape.n_experts[0], k = t.shape.top_k[0];
    RoutingTrace hist = t.shape.n_experts[0] == 16 ? history : t;  // a same-shaped earlier trace
    o.history = &hist;
    for (int c : {1, k, 2 * k, E - 1}) {
      const CacheCapacity cap = CacheCapacity::uniform(3, c);
      const int64_t best = hits(t, "belady", cap, o);
      for (const char* p : {"lru", "fifo", "lfu", "lfu:0.9", "random:3", "arc", "mrs", "opt",
                            "sch:8", "stationary", "static-freq", "on-demand"})
        EXPECT_GE(best, hits(t, p, cap, o)) << p << " c=" << c;
    }
  }
}

TEST(PolicyProperties, BeladyBoundsEveryExactPolicyGlobally) {
  for (const RoutingTrace& t : traces()) {
    const int64_t total = t.shape.total_experts();
    for (int64_t c : {int64_t(2), total / 4, total / 2}) {
      const CacheCapacity cap = CacheCapacity::global_slots(uint64_t(c));
      const int64_t best = hits(t, "belady-global", cap);
      for (const char* p : {"lru-global", "fifo-global", "lfu-global:0.95", "random-global:1",
                            "arc-global", "mrs-global", "least-stale", "lookahead", "opt-global",
                            "sch-global:4", "stationary-global", "static-front", "static-back"})
        EXPECT_GE(best, hits(t, p, cap)) << p << " C=" << c;
      // A global pool can always do what a partition does: Belady over C slots beats per-layer
      // LRU with the same total.
      EXPECT_GE(best, hits(t, "lru", CacheCapacity::uniform(3, int32_t(c / 3))));
    }
  }
}

// Mirrors the simulator's actions the way the real cache will, and checks its invariants.
class Mirror : public CacheListener {
 public:
  Mirror(const CacheSimulator& sim) : sim_(sim) {}
  void on_load(ExpertKey key, bool, bool admitted) override {
    if (!admitted) return;
    EXPECT_TRUE(resident_.insert(key).second);
    check();
  }
  void on_evict(ExpertKey key) override { EXPECT_EQ(resident_.erase(key), 1u); }
  void check() const {
    const CacheCapacity& cap = sim_.capacity();
    std::vector<uint64_t> used(size_t(cap.n_partitions(sim_.shape())), 0);
    for (const ExpertKey& k : resident_) {
      EXPECT_TRUE(sim_.resident(k));
      used[cap.partition_of(k.layer)] += cap.weight(sim_.shape(), k.layer);
    }
    for (size_t p = 0; p < used.size(); ++p) EXPECT_LE(used[p], cap.partition_capacity(int32_t(p)));
  }
  size_t size() const { return resident_.size(); }

 private:
  const CacheSimulator& sim_;
  std::set<ExpertKey> resident_;
};

TEST(PolicyProperties, ReplayEqualsALiveFeedAndTheMirrorStaysInSync) {
  const std::vector<RoutingTrace> all = traces();
  TimingModel timing{LinkModel::preset("nvme"), 200'000, 30'000};
  for (const RoutingTrace& t : all) {
    const AccessStream stream = AccessStream::build(t, {8});
    auto future = std::make_shared<AccessStream>(stream);
    for (const char* spec : {"lru", "arc-global", "belady", "mrs", "lfu:0.9"}) {
      for (const char* pf : {"none", "affinity:4", "same-prev"}) {
        const PolicySpec ps = parse_policy_spec(spec);
        const CacheCapacity cap = ps.pool == PoolKind::kGlobal
                                      ? CacheCapacity::global_bytes(5 * t.shape.expert_bytes[0])
                                      : CacheCapacity::uniform(3, 3);
        CacheSimulator replayed(t.shape, cap, make_policy(ps, {future}), make_prefetcher(pf, {}),
                                timing, ps.text);
        replay(t, stream, replayed);

        // The live engine produces steps as it runs, from its own buffers, chunking prefill
        // the same way.
        CacheSimulator live(t.shape, cap, make_policy(ps, {future}), make_prefetcher(pf, {}),
                            timing, ps.text);
        Mirror mirror(live);
        live.set_listener(&mirror);
        const int32_t L = t.n_layers();
        for (int64_t t0 = 0; t0 < t.n_tokens();) {
          int64_t t1 = t0 + 1;
          if (t.phase[t0] == Phase::kPrefill)
            while (t1 < t.n_tokens() && t1 - t0 < 8 && t.phase[t1] == Phase::kPrefill) ++t1;
          for (int32_t l = 0; l < L; ++l) {
            std::vector<TokenLayerRouting> routing;
            std::vector<ExpertId> used;
            for (int64_t u = t0; u < t1; ++u) {
              routing.push_back(t.routing(TokenPos(int32_t(u)), MoeLayerId(l)));
              for (ExpertId e : routing.back().experts)
                if (std::find(used.begin(), used.end(), e) == used.end()) used.push_back(e);
            }
            live.step({TokenPos(int32_t(t0)), int32_t(t1 - t0), MoeLayerId(l), t.phase[t0], used,
                       routing});
          }
          t0 = t1;
        }
        EXPECT_EQ(live.report(), replayed.report()) << spec << " + " << pf;
        mirror.check();
        const CacheCounters c = live.report().total();
        EXPECT_EQ(c.hits + c.misses, c.accesses);
        EXPECT_LE(c.prefetch_used + c.prefetch_wasted, c.prefetch_issued);
        EXPECT_LE(c.prefetch_late, c.prefetch_used);
      }
    }
  }
}

}  // namespace
}  // namespace moescope::policy
