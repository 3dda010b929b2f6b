// One-pass hit-rate curves against direct simulation at every capacity.
#include <gtest/gtest.h>

#include <set>

#include "engine/policy/stack_curves.h"
#include "engine/policy/synthetic_trace.h"
#include "tests/engine/policy/policy_test_util.h"

namespace moescope::policy {
namespace {

using testing::reference_string;
using testing::run;

TEST(StackCurves, TextbookStringByHand) {
  const std::vector<int> refs{7, 0, 1, 2, 0, 3, 0, 4, 2, 3, 0, 3, 2, 1, 2, 0, 1, 7, 0, 1};
  const RoutingTrace t = reference_string(refs, 8);
  const AccessStream s = AccessStream::build(t);
  const CurveSet lru = lru_curves(s, t.shape), opt = opt_curves(s, t.shape);
  EXPECT_EQ(lru.per_layer[0].hits_at(3), 20 - 12);
  EXPECT_EQ(opt.per_layer[0].hits_at(3), 20 - 9);
  // Six distinct keys: with six slots only the cold misses remain.
  EXPECT_EQ(lru.per_layer[0].hits_at(6), 14);
  EXPECT_EQ(opt.per_layer[0].hits_at(6), 14);
  EXPECT_EQ(lru.per_layer[0].hits_at(0), 0);
}

void expect_curves_match_simulation(const RoutingTrace& t, StreamOptions so) {
  const AccessStream s = AccessStream::build(t, so);
  const CurveSet lru = lru_curves(s, t.shape), opt = opt_curves(s, t.shape);
  const int32_t L = t.n_layers(), E = t.shape.n_experts[0];
  testing::RunOptions o;
  o.stream = so;
  for (int32_t c = 0; c <= E; ++c) {
    const CacheReport r_lru = run(t, "lru", CacheCapacity::uniform(L, c), o);
    const CacheReport r_opt = run(t, "opt", CacheCapacity::uniform(L, c), o);
    for (int32_t l = 0; l < L; ++l)
      for (int p = 0; p < 2; ++p) {
        EXPECT_EQ(lru.per_layer[l].hits[p][c], r_lru.layer[p][l].hits) << "lru l" << l << " c" << c;
        EXPECT_EQ(opt.per_layer[l].hits[p][c], r_opt.layer[p][l].hits) << "opt l" << l << " c" << c;
      }
  }
  for (int64_t c = 0; c <= t.shape.total_experts(); ++c) {
    const CacheCapacity cap = CacheCapacity::global_slots(uint64_t(c));
    for (int p = 0; p < 2; ++p) {
      EXPECT_EQ(lru.global.hits[p][c], run(t, "lru-global", cap, o).phase[p].hits) << "C" << c;
      EXPECT_EQ(opt.global.hits[p][c], run(t, "opt-global", cap, o).phase[p].hits) << "C" << c;
    }
  }
}

TEST(StackCurves, EqualDirectSimulationAtEveryCapacity) {
  using K = SyntheticSpec::Kind;
  uint64_t seed = 40;
  for (K kind : {K::kUniform, K::kZipf, K::kBursty})
    expect_curves_match_simulation(synthetic_trace({.kind = kind,
                                                    .n_layers = 3,
                                                    .n_experts = 10,
                                                    .top_k = 3,
                                                    .n_tokens = 120,
                                                    .n_prefill = 16,
                                                    .seed = ++seed,
                                                    .burst_len = 6}),
                                   {4});
}

TEST(StackCurves, CurvesAreMonotoneAndOptDominatesLru) {
  const RoutingTrace t = synthetic_trace({.kind = SyntheticSpec::Kind::kZipf,
                                          .n_layers = 4,
                                          .n_experts = 32,
                                          .top_k = 4,
                                          .n_tokens = 2000});
  const AccessStream s = AccessStream::build(t);
  const CurveSet lru = lru_curves(s, t.shape), opt = opt_curves(s, t.shape);
  for (size_t c = 1; c < lru.global.hits[1].size(); ++c) {
    EXPECT_GE(lru.global.hits_at(c), lru.global.hits_at(c - 1));
    EXPECT_GE(opt.global.hits_at(c), lru.global.hits_at(c));
  }
  // With every expert resident only cold misses remain, under both.
  const int64_t cold = int64_t(std::set<ExpertKey>(s.accesses.begin(), s.accesses.end()).size());
  EXPECT_EQ(lru.global.hits_at(size_t(cold)), lru.global.total_accesses() - cold);
  EXPECT_EQ(opt.global.hits_at(size_t(cold)), lru.global.hits_at(size_t(cold)));
}

}  // namespace
}  // namespace moescope::policy
