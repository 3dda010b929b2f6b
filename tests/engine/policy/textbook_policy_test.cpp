// Hand-checked cases for the online policies.
#include <gtest/gtest.h>

#include <list>
#include <map>
#include <random>
#include <set>

#include "engine/policy/policies.h"
#include "engine/policy/synthetic_trace.h"
#include "tests/engine/policy/policy_test_util.h"

namespace moescope::policy {
namespace {

using testing::hits;
using testing::make_trace;
using testing::reference_string;
using testing::run;

// Silberschatz, Operating System Concepts: 20 references, 3 frames.
const std::vector<int> kSilberschatz{7, 0, 1, 2, 0, 3, 0, 4, 2, 3, 0, 3, 2, 1, 2, 0, 1, 7, 0, 1};
// Belady's anomaly string.
const std::vector<int> kAnomaly{1, 2, 3, 4, 1, 2, 5, 1, 2, 3, 4, 5};

int64_t faults(const std::vector<int>& refs, const std::string& policy, int frames) {
  const RoutingTrace t = reference_string(refs, 8);
  const CacheReport r = run(t, policy, CacheCapacity::uniform(1, frames));
  EXPECT_EQ(r.total().hits + r.total().misses, int64_t(refs.size()));
  return r.total().misses;
}

TEST(TextbookPolicies, LruFifoOptFaultCounts) {
  EXPECT_EQ(faults(kSilberschatz, "lru", 3), 12);
  EXPECT_EQ(faults(kSilberschatz, "fifo", 3), 15);
  EXPECT_EQ(faults(kSilberschatz, "opt", 3), 9);
  EXPECT_EQ(faults(kAnomaly, "fifo", 3), 9);
  EXPECT_EQ(faults(kAnomaly, "fifo", 4), 10);  // more frames, more faults
  EXPECT_EQ(faults(kAnomaly, "lru", 3), 10);
  EXPECT_EQ(faults(kAnomaly, "lru", 4), 8);
}

TEST(TextbookPolicies, GlobalLruOverLayersMatchesOneSequence) {
  // Two layers alternate; a global pool of 3 slots sees the interleaved string.
  const RoutingTrace t =
      make_trace({{{0}, {0}}, {{1}, {0}}, {{0}, {1}}, {{2}, {0}}, {{1}, {1}}}, 4);
  // Interleaved keys: a0 b0 a1 b0 a0 b1 a2 b0 a1 b1 -> LRU with 3 slots by hand:
  // a0 m, b0 m, a1 m, b0 h, a0 h, b1 m(evict a1), a2 m(evict b0), b0 m(evict a0), a1 m(evict b1),
  // b1 m(evict a2): 2 hits.
  EXPECT_EQ(hits(t, "lru-global", CacheCapacity::global_slots(3)), 2);
}

TEST(TextbookPolicies, LfuCountsEveryAccessAndBreaksTiesByRecency) {
  // A A B C A B C C B A B with 2 slots (hand trace in the comments of the design notes):
  // hits at A(2), A(5), C(8), B(11).
  const CacheReport r = run(reference_string({0, 0, 1, 2, 0, 1, 2, 2, 1, 0, 1}, 4), "lfu",
                            CacheCapacity::uniform(1, 2));
  EXPECT_EQ(r.total().hits, 4);
  EXPECT_EQ(r.total().evictions, 5);
}

TEST(TextbookPolicies, LfuAgingForgetsOldPopularity) {
  // A A A B B C A: at C, A has 3 old uses and B 2 recent ones. Without aging C evicts B and A
  // hits; with gamma = 0.5 A's count (0.22) is below B's (0.75), so A goes and misses.
  const RoutingTrace t = reference_string({0, 0, 0, 1, 1, 2, 0}, 4);
  EXPECT_EQ(hits(t, "lfu", CacheCapacity::uniform(1, 2)), 4);
  EXPECT_EQ(hits(t, "lfu:0.5", CacheCapacity::uniform(1, 2)), 3);
}

TEST(TextbookPolicies, RandomIsSeededAndUniform) {
  const RoutingTrace t =
      synthetic_trace({.n_layers = 2, .n_experts = 8, .top_k = 2, .n_tokens = 300});
  EXPECT_EQ(run(t, "random:7", CacheCapacity::uniform(2, 3)),
            run(t, "random:7", CacheCapacity::uniform(2, 3)));
  EXPECT_NE(run(t, "random:7", CacheCapacity::uniform(2, 3)).total().hits,
            run(t, "random:8", CacheCapacity::uniform(2, 3)).total().hits);
  // After filling 0..3, a miss on 4 evicts each of them about 1/4 of the time.
  int evicted[4] = {};
  for (int seed = 0; seed < 4000; ++seed) {
    auto policy = make_random(uint64_t(seed));
    const MoeShape shape = MoeShape::uniform(1, 5, 1, 1);
    policy->reset(shape, CacheCapacity::uniform(1, 4));
    for (int e = 0; e < 4; ++e) policy->on_insert({MoeLayerId(0), ExpertId(e)}, false);
    const auto v = policy->choose_victim({{MoeLayerId(0), ExpertId(4)}, MoeLayerId(0), {}, false});
    ASSERT_TRUE(v.has_value());
    ++evicted[v->expert.value];
  }
  for (int n : evicted) EXPECT_NEAR(n, 1000, 120);
}

// ARC straight from Megiddo & Modha's pseudocode, on one key sequence.
int64_t reference_arc_hits(const std::vector<int>& refs, int c) {
  std::list<int> t1, t2, b1, b2;  // front = MRU
  double p = 0;
  int64_t hits = 0;
  auto in = [](std::list<int>& l, int x) { return std::find(l.begin(), l.end(), x) != l.end(); };
  auto replace = [&](int x) {
    if (!t1.empty() && ((in(b2, x) && double(t1.size()) == p) || double(t1.size()) > p)) {
      b1.push_front(t1.back());
      t1.pop_back();
    } else {
      b2.push_front(t2.back());
      t2.pop_back();
    }
  };
  for (int x : refs) {
    if (in(t1, x) || in(t2, x)) {
      ++hits;
      t1.remove(x);
      t2.remove(x);
      t2.push_front(x);
    } else if (in(b1, x)) {
      p = std::min(double(c), p + std::max(double(b2.size()) / double(b1.size()), 1.0));
      replace(x);
      b1.remove(x);
      t2.push_front(x);
    } else if (in(b2, x)) {
      p = std::max(0.0, p - std::max(double(b1.size()) / double(b2.size()), 1.0));
      replace(x);
      b2.remove(x);
      t2.push_front(x);
    } else {
      if (int(t1.size() + b1.size()) == c) {
        if (int(t1.size()) < c) {
          b1.pop_back();
          replace(x);
        } else {
          t1.pop_back();
        }
      } else {
        const size_t total = t1.size() + t2.size() + b1.size() + b2.size();
        if (int(total) >= c) {
          if (int(total) == 2 * c) b2.pop_back();
          replace(x);
        }
      }
      t1.push_front(x);
    }
  }
  return hits;
}

TEST(TextbookPolicies, ArcMatchesThePaperPseudocode) {
  std::mt19937 rng(5);
  for (int trial = 0; trial < 30; ++trial) {
    const int n_keys = 4 + trial % 9, c = 1 + trial % 5;
    // Looping scans mixed with a hot set exercise all four lists.
    std::vector<int> refs;
    for (int i = 0; i < 400; ++i)
      refs.push_back(rng() % 3 == 0 ? int(rng() % 2) : int(rng() % unsigned(n_keys)));
    EXPECT_EQ(hits(reference_string(refs, n_keys), "arc", CacheCapacity::uniform(1, c)),
              reference_arc_hits(refs, c))
        << "trial " << trial;
  }
}

TEST(TextbookPolicies, MrsKeepsHighRouterScoresOverRecency) {
  // One layer, 4 experts, k = 1 (top-p = the 2 highest), 2 slots, alpha = 0.75. By hand, after
  // token 3 the scores are S1 = 0.107 and S2 = 0.403: MRS evicts 1 where LRU evicts 2, so token
  // 4's expert 2 hits under MRS only.
  RoutingTraceBuilder b(MoeShape::uniform(1, 4, 1, 10), true);
  const std::vector<std::pair<int, std::vector<float>>> tokens{{0, {0.6f, 0.3f, 0.05f, 0.05f}},
                                                               {2, {0.1f, 0.2f, 0.6f, 0.1f}},
                                                               {1, {0.05f, 0.5f, 0.4f, 0.05f}},
                                                               {0, {0.45f, 0.1f, 0.4f, 0.05f}},
                                                               {2, {0.1f, 0.1f, 0.7f, 0.1f}}};
  for (const auto& [e, p] : tokens) {
    b.begin_token(Phase::kDecode);
    b.add_layer(std::vector<ExpertId>{ExpertId(e)}, std::vector<float>{1.0f}, p);
  }
  const RoutingTrace t = b.finish();
  EXPECT_EQ(hits(t, "mrs", CacheCapacity::uniform(1, 2)), 1);
  EXPECT_EQ(hits(t, "lru", CacheCapacity::uniform(1, 2)), 0);
}

TEST(TextbookPolicies, LeastStaleEvictsLayersThatAlreadyRan) {
  const MoeShape shape = MoeShape::uniform(2, 2, 1, 1);
  auto policy = make_least_stale();
  policy->reset(shape, CacheCapacity::global_slots(2));
  const ExpertKey a{MoeLayerId(0), ExpertId(0)}, b{MoeLayerId(1), ExpertId(0)};
  const ExpertKey c{MoeLayerId(1), ExpertId(1)};
  int64_t seq = 0;
  auto access = [&](int t, ExpertKey k, bool resident) {
    policy->on_step({TokenPos(t), 1, k.layer, Phase::kDecode, seq});
    policy->on_access(k, seq++, resident);
    if (!resident) policy->on_insert(k, false);
  };
  access(0, a, false);
  access(0, b, false);
  access(1, a, true);  // a is now the most recent entry
  // At layer 1, layer 0 has already run for this token: a goes although LRU would pick b.
  policy->on_step({TokenPos(1), 1, MoeLayerId(1), Phase::kDecode, seq});
  EXPECT_EQ(policy->choose_victim({c, std::nullopt, {}, false}), a);
  // At layer 0 nothing is stale: plain LRU.
  policy->on_step({TokenPos(2), 1, MoeLayerId(0), Phase::kDecode, seq});
  EXPECT_EQ(policy->choose_victim({c, std::nullopt, {}, false}), b);

  // The same through the simulator: layer 0's expert is lost at token 1 and misses at token 2.
  const RoutingTrace t = make_trace({{{0}, {0}}, {{0}, {1}}, {{0}, {1}}}, 2);
  const CacheReport stale = run(t, "least-stale", CacheCapacity::global_slots(2));
  const CacheReport lru = run(t, "lru-global", CacheCapacity::global_slots(2));
  EXPECT_EQ(stale.layer[1][0].hits, 1);
  EXPECT_EQ(lru.layer[1][0].hits, 2);
  EXPECT_EQ(stale.layer[1][1].hits, 1);
  EXPECT_EQ(lru.layer[1][1].hits, 1);
}

TEST(TextbookPolicies, LayerLookaheadProtectsTheNextLayers) {
  // Four layers, global pool of 3, window 2. At token 0 layer 3 the LRU entry (layer 0) is
  // protected (the next token's layer 0 runs soon), so layer 1's goes and token 1 layer 0 hits.
  const RoutingTrace t = make_trace({{{0}, {0}, {0}, {0}}, {{0}, {1}, {1}, {1}}}, 2);
  EXPECT_EQ(run(t, "lookahead:2", CacheCapacity::global_slots(3)).layer[1][0].hits, 1);
  EXPECT_EQ(run(t, "lru-global", CacheCapacity::global_slots(3)).layer[1][0].hits, 0);
  // When every resident layer is protected nothing can go: the miss bypasses the cache.
  const RoutingTrace two = make_trace({{{0}, {0}}, {{1}, {1}}}, 2);
  const CacheReport r = run(two, "lookahead:2", CacheCapacity::global_slots(1));
  EXPECT_EQ(r.total().bypasses, 3);
  EXPECT_EQ(r.total().evictions, 0);
}

// Hits of a cache that only ever holds `pinned` and admits each at first use.
int64_t pinned_hits(const RoutingTrace& t, const std::set<ExpertKey>& pinned) {
  std::set<ExpertKey> seen;
  int64_t h = 0;
  for (const ExpertKey& k : AccessStream::build(t).accesses)
    if (pinned.count(k) && !seen.insert(k).second) ++h;
  return h;
}

TEST(TextbookPolicies, StaticPoliciesPinAFixedSet) {
  const RoutingTrace history =
      make_trace({{{0, 1}, {2, 3}}, {{0, 2}, {2, 1}}, {{0, 1}, {2, 0}}, {{3, 1}, {2, 3}}}, 4);
  const RoutingTrace t =
      synthetic_trace({.n_layers = 2, .n_experts = 4, .top_k = 2, .n_tokens = 60, .seed = 3});
  testing::RunOptions o;
  o.history = &history;
  // Per-layer quota of 1: layer 0 pins 0 (3 uses), layer 1 pins 2 (4 uses).
  const std::set<ExpertKey> quota{{MoeLayerId(0), ExpertId(0)}, {MoeLayerId(1), ExpertId(2)}};
  EXPECT_EQ(hits(t, "static-freq", CacheCapacity::uniform(2, 1), o), pinned_hits(t, quota));
  // Global top 3: (1,2):4, (0,0):3, (0,1):3.
  const std::set<ExpertKey> top3{
      {MoeLayerId(1), ExpertId(2)}, {MoeLayerId(0), ExpertId(0)}, {MoeLayerId(0), ExpertId(1)}};
  EXPECT_EQ(hits(t, "static-freq-global", CacheCapacity::global_slots(3), o), pinned_hits(t, top3));
  // Whole layers: 5 slots hold one layer of 4 experts.
  std::set<ExpertKey> front, back;
  for (int e = 0; e < 4; ++e) {
    front.insert({MoeLayerId(0), ExpertId(e)});
    back.insert({MoeLayerId(1), ExpertId(e)});
  }
  EXPECT_EQ(hits(t, "static-front", CacheCapacity::global_slots(5)), pinned_hits(t, front));
  EXPECT_EQ(hits(t, "static-back", CacheCapacity::global_slots(5)), pinned_hits(t, back));
  EXPECT_EQ(run(t, "static-front", CacheCapacity::global_slots(5)).total().evictions, 0);
}

TEST(TextbookPolicies, OnDemandLoadsEveryAccess) {
  const RoutingTrace t =
      synthetic_trace({.n_layers = 3, .n_experts = 8, .top_k = 2, .n_tokens = 50});
  const CacheCounters c = run(t, "on-demand", CacheCapacity::uniform(3, 8)).total();
  EXPECT_EQ(c.hits, 0);
  EXPECT_EQ(c.misses, 300);
  EXPECT_EQ(c.bypasses, 300);
  EXPECT_EQ(c.bytes_loaded, 300 * int64_t(1 << 20));
}

}  // namespace
}  // namespace moescope::policy
