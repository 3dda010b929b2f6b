// One-pass hit-rate curves against direct simulation at every capacity.
#include <gtest/gtest.h>

#include <random>
#include <set>

#include "engine/policy/stack_curves.h"
#include "engine/policy/synthetic_trace.h"
#include "tests/engine/policy/policy_test_util.h"
#include "tests/engine/policy/stack_reference.h"

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

// The scalable one-pass curves against the straightforward implementation they replaced
// (tests/engine/policy/stack_reference.h), at every capacity of every partition and phase, on
// traces far longer than direct simulation at every capacity can afford.
void expect_same_as_reference(const RoutingTrace& t, StreamOptions so) {
  const AccessStream s = AccessStream::build(t, so);
  const CurveSet lru = lru_curves(s, t.shape), opt = opt_curves(s, t.shape);
  const CurveSet ref_lru = testing::reference::lru_curves(s, t.shape);
  const CurveSet ref_opt = testing::reference::opt_curves(s, t.shape);
  ASSERT_EQ(lru.per_layer.size(), ref_lru.per_layer.size());
  for (size_t l = 0; l < lru.per_layer.size(); ++l) {
    for (int p = 0; p < 2; ++p) {
      EXPECT_EQ(lru.per_layer[l].hits[p], ref_lru.per_layer[l].hits[p]) << "lru l" << l;
      EXPECT_EQ(opt.per_layer[l].hits[p], ref_opt.per_layer[l].hits[p]) << "opt l" << l;
    }
    EXPECT_EQ(lru.per_layer[l].accesses, ref_lru.per_layer[l].accesses);
    EXPECT_EQ(opt.per_layer[l].accesses, ref_opt.per_layer[l].accesses);
  }
  for (int p = 0; p < 2; ++p) {
    EXPECT_EQ(lru.global.hits[p], ref_lru.global.hits[p]) << "lru global";
    EXPECT_EQ(opt.global.hits[p], ref_opt.global.hits[p]) << "opt global";
  }
  EXPECT_EQ(opt.global.accesses, ref_opt.global.accesses);
}

TEST(StackCurves, EqualTheReferenceOnLongRandomAndBurstyTraces) {
  using K = SyntheticSpec::Kind;
  uint64_t seed = 90;
  for (K kind : {K::kUniform, K::kZipf, K::kBursty})
    for (StreamOptions so : {StreamOptions{1}, StreamOptions{0}, StreamOptions{7}})
      expect_same_as_reference(synthetic_trace({.kind = kind,
                                                .n_layers = 4,
                                                .n_experts = 24,
                                                .top_k = 4,
                                                .n_tokens = 3000,
                                                .n_prefill = 40,
                                                .seed = ++seed,
                                                .burst_len = 12,
                                                .affinity = 0.4}),
                               so);
}

// Layers of different sizes and top-k (the global key index is not a multiple of one size), and
// steps with a single expert, where the pinned run is empty.
TEST(StackCurves, EqualTheReferenceOnUnevenLayers) {
  MoeShape shape;
  shape.n_experts = {5, 17, 3, 9};
  shape.top_k = {2, 4, 1, 3};
  shape.expert_bytes = {1, 1, 1, 1};
  shape.model_layer = {0, 1, 2, 3};
  shape.validate();
  std::mt19937 rng(5);
  RoutingTraceBuilder b(shape, false);
  for (int t = 0; t < 2500; ++t) {
    b.begin_token(t < 30 ? Phase::kPrefill : Phase::kDecode);
    for (int32_t l = 0; l < shape.n_layers(); ++l) {
      std::vector<ExpertId> e;
      // Bursts: every 50 tokens the layer favours a different few experts.
      while (int32_t(e.size()) < shape.top_k[size_t(l)]) {
        const int32_t n = shape.n_experts[size_t(l)];
        const int32_t x = rng() % 4 ? int32_t((t / 50 + rng() % 3) % n) : int32_t(rng() % n);
        if (std::find(e.begin(), e.end(), ExpertId(x)) == e.end()) e.push_back(ExpertId(x));
      }
      b.add_layer(e, std::vector<float>(e.size(), 1.0f));
    }
  }
  const RoutingTrace t = b.finish();
  expect_same_as_reference(t, {1});
  expect_same_as_reference(t, {0});
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
