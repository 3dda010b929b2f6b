// Oracles against exhaustive search and against straightforward reference implementations.
#include <gtest/gtest.h>

#include <map>
#include <random>

#include "engine/common/error.h"
#include "engine/policy/policies.h"
#include "engine/policy/synthetic_trace.h"
#include "tests/engine/policy/policy_test_util.h"

namespace moescope::policy {
namespace {

using testing::hits;
using testing::make_trace;
using testing::reference_string;

// Most hits any cache of c slots can get on refs, by dynamic programming over cache contents.
// With bypass a missed key may stay out; without, it must enter (demand paging).
int64_t optimal_hits(const std::vector<int>& refs, int c, bool bypass) {
  std::map<uint32_t, int64_t> best{{0u, 0}};
  for (int x : refs) {
    std::map<uint32_t, int64_t> next;
    auto offer = [&](uint32_t s, int64_t h) {
      auto [it, fresh] = next.emplace(s, h);
      if (!fresh) it->second = std::max(it->second, h);
    };
    const uint32_t bit = 1u << x;
    for (auto [s, h] : best) {
      if (s & bit) {
        offer(s, h + 1);
        continue;
      }
      if (bypass || c == 0) offer(s, h);
      if (c == 0) continue;
      if (__builtin_popcount(s) < c) {
        offer(s | bit, h);
        continue;
      }
      for (uint32_t v = s; v; v &= v - 1) offer((s & ~(v & (~v + 1))) | bit, h);
    }
    best.swap(next);
  }
  int64_t h = 0;
  for (auto [s, v] : best) h = std::max(h, v);
  return h;
}

TEST(OraclePolicies, BeladyIsOptimalAndOptIsOptimalDemandPaging) {
  std::mt19937 rng(11);
  for (int trial = 0; trial < 40; ++trial) {
    const int n_keys = 3 + trial % 5, c = 1 + trial % 4;
    std::vector<int> refs;
    for (int i = 0; i < 24; ++i) refs.push_back(int(rng() % unsigned(n_keys)));
    const RoutingTrace t = reference_string(refs, n_keys);
    EXPECT_EQ(hits(t, "belady", CacheCapacity::uniform(1, c)), optimal_hits(refs, c, true))
        << "trial " << trial;
    EXPECT_EQ(hits(t, "opt", CacheCapacity::uniform(1, c)), optimal_hits(refs, c, false))
        << "trial " << trial;
  }
}

TEST(OraclePolicies, BeladyWithBypassBeatsDemandMinOnAlternation) {
  // a b a b ... with one slot: demand MIN always swaps and never hits; keeping a hits half.
  const RoutingTrace t = reference_string({0, 1, 0, 1, 0, 1, 0, 1}, 2);
  EXPECT_EQ(hits(t, "opt", CacheCapacity::uniform(1, 1)), 0);
  EXPECT_EQ(hits(t, "belady", CacheCapacity::uniform(1, 1)), 3);
}

// SCH(m) from its definition: on a miss with a full layer, evict the resident expert with the
// fewest accesses after now within the segment [t, t + m) of the running token t; ties by least
// recent use.
// Experts the running step has yet to access are never evicted (the simulator's step rule).
std::vector<int64_t> reference_sch_hits(const RoutingTrace& t, int m, int c) {
  const AccessStream s = AccessStream::build(t, {1});
  std::vector<int64_t> token_of(s.accesses.size()), step_end(s.accesses.size());
  for (const AccessStep& st : s.steps)
    for (int64_t i = st.begin; i < st.end; ++i) {
      token_of[i] = st.first_token.value;
      step_end[i] = st.end;
    }
  std::vector<int64_t> layer_hits(size_t(t.n_layers()), 0);
  std::map<ExpertKey, int64_t> last_use;  // resident -> last access
  for (size_t i = 0; i < s.accesses.size(); ++i) {
    const ExpertKey k = s.accesses[i];
    if (last_use.count(k)) {
      ++layer_hits[k.layer.value];
    } else {
      int resident = 0;
      for (auto& [r, u] : last_use) resident += r.layer == k.layer;
      if (resident >= c) {
        std::optional<ExpertKey> victim;
        std::pair<int64_t, int64_t> best;
        for (auto& [r, u] : last_use) {
          if (r.layer != k.layer) continue;
          bool later = false;
          for (int64_t j = int64_t(i) + 1; j < step_end[i]; ++j)
            later = later || s.accesses[j] == r;
          if (later) continue;
          int64_t future = 0;
          for (size_t j = i + 1; j < s.accesses.size() && token_of[j] < token_of[i] + m; ++j)
            future += s.accesses[j] == r;
          if (!victim || std::make_pair(future, u) < best) {
            victim = r;
            best = {future, u};
          }
        }
        if (!victim) continue;  // everything resident is still needed by this step: bypass
        last_use.erase(*victim);
      }
    }
    last_use[k] = int64_t(i);
  }
  return layer_hits;
}

TEST(OraclePolicies, SchMatchesItsDefinition) {
  for (int seed = 1; seed <= 6; ++seed) {
    const RoutingTrace t = synthetic_trace({.kind = SyntheticSpec::Kind::kBursty,
                                            .n_layers = 2,
                                            .n_experts = 8,
                                            .top_k = 2,
                                            .n_tokens = 120,
                                            .seed = uint64_t(seed),
                                            .burst_len = 6});
    const int m = 1 + seed * 3, c = 2 + seed % 3;
    const CacheReport r =
        testing::run(t, "sch:" + std::to_string(m), CacheCapacity::uniform(2, c), {.stream = {1}});
    const std::vector<int64_t> want = reference_sch_hits(t, m, c);
    for (int l = 0; l < 2; ++l) EXPECT_EQ(r.layer[1][l].hits, want[l]) << "seed " << seed;
  }
}

TEST(OraclePolicies, StationaryPinsEachLayersMostUsedExperts) {
  // Layer 0 uses 2 most, layer 1 uses 0 most; one slot each.
  const RoutingTrace t =
      make_trace({{{2}, {0}}, {{1}, {0}}, {{2}, {3}}, {{2}, {0}}, {{1}, {3}}}, 4);
  const CacheReport r = testing::run(t, "stationary", CacheCapacity::uniform(2, 1));
  EXPECT_EQ(r.layer[1][0].hits, 2);
  EXPECT_EQ(r.layer[1][1].hits, 2);
  EXPECT_EQ(r.total().evictions, 0);
}

TEST(OraclePolicies, RefuseAFutureThatDivergesFromTheRecording) {
  const RoutingTrace recorded = reference_string({0, 1, 2, 0}, 4);
  const RoutingTrace live = reference_string({0, 1, 3, 0}, 4);
  auto future = std::make_shared<AccessStream>(AccessStream::build(recorded));
  CacheSimulator sim(live.shape, CacheCapacity::uniform(1, 2), make_belady(future, true));
  EXPECT_THROW(replay(live, AccessStream::build(live), sim), Error);
  const RoutingTrace longer = reference_string({0, 1, 2, 0, 1}, 4);
  CacheSimulator sim2(longer.shape, CacheCapacity::uniform(1, 2), make_belady(future, true));
  EXPECT_THROW(replay(longer, AccessStream::build(longer), sim2), Error);
}

}  // namespace
}  // namespace moescope::policy
