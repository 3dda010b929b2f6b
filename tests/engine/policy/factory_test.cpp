#include <gtest/gtest.h>

#include "engine/common/error.h"
#include "engine/policy/policy_factory.h"
#include "engine/policy/prefetcher.h"
#include "engine/policy/registry.h"
#include "engine/policy/synthetic_trace.h"
#include "tests/engine/policy/policy_test_util.h"

namespace moescope::policy {
namespace {

TEST(PolicyFactory, ParsesSpellingsWithDefaults) {
  const PolicySpec lfu = parse_policy_spec("lfu-global:0.95");
  EXPECT_EQ(lfu.kind, "lfu");
  EXPECT_EQ(lfu.pool, PoolKind::kGlobal);
  EXPECT_EQ(lfu.params, std::vector<double>{0.95});
  EXPECT_EQ(lfu.text, "lfu-global:0.95");
  EXPECT_EQ(parse_policy_spec("lru").pool, PoolKind::kPerLayer);
  EXPECT_EQ(parse_policy_spec("least-stale").pool, PoolKind::kGlobal);
  EXPECT_EQ(parse_policy_spec("sch").text, "sch:16");
  EXPECT_EQ(parse_policy_spec("mrs").text, "mrs:0.75");
  EXPECT_EQ(parse_policy_spec("lookahead-global").text, "lookahead:3");
  EXPECT_TRUE(parse_policy_spec("belady").oracle);
  EXPECT_TRUE(parse_policy_spec("static-freq").needs_history);
  for (const char* bad : {"nope", "lru:3", "on-demand-global", "lfu:abc", "sch:4:5", "", "-global"})
    EXPECT_THROW(parse_policy_spec(bad), Error) << bad;
  for (const char* bad : {"lfu:1.5", "mrs:0", "sch:0", "random:-1", "lookahead:0", "random:1.5"})
    EXPECT_THROW(make_policy(parse_policy_spec(bad), {}), Error) << bad;
  EXPECT_THROW(make_policy(parse_policy_spec("belady"), {}), Error);
  EXPECT_THROW(make_policy(parse_policy_spec("static-freq"), {}), Error);
  EXPECT_EQ(registry_entries(EntryKind::kPolicy).size(), 16u);
}

TEST(PolicyFactory, EveryPolicyRunsInBothPoolsWhereItHasThem) {
  const RoutingTrace t = synthetic_trace({.n_layers = 3,
                                          .n_experts = 8,
                                          .top_k = 2,
                                          .n_tokens = 40,
                                          .n_prefill = 8,
                                          .with_probs = true});
  testing::RunOptions o;
  o.history = &t;
  for (const RegistryEntry* entry : registry_entries(EntryKind::kPolicy)) {
    const std::string name(entry->name);
    for (const std::string& spec : {name, name + "-global"}) {
      PolicySpec ps;
      try {
        ps = parse_policy_spec(spec);
      } catch (const Error&) {
        continue;  // no such form
      }
      const CacheCapacity cap = ps.pool == PoolKind::kGlobal ? CacheCapacity::global_slots(10)
                                                             : CacheCapacity::uniform(3, 3);
      const CacheCounters c = testing::run(t, spec, cap, o).total();
      EXPECT_EQ(c.hits + c.misses, c.accesses) << spec;
      EXPECT_GT(c.accesses, 0) << spec;
    }
  }
}

TEST(PrefetcherFactory, ParsesSpellings) {
  const RoutingTrace t =
      synthetic_trace({.n_layers = 2, .n_experts = 8, .top_k = 2, .n_tokens = 20});
  EXPECT_EQ(make_prefetcher("freq:4:32:2", {})->name(), "freq:4:32:2");
  EXPECT_EQ(make_prefetcher("freq:4:32:2", {})->distance(), 2);
  EXPECT_EQ(make_prefetcher("next-gate:2:3", {})->distance(), 2);
  EXPECT_EQ(make_prefetcher("same-prev", {})->distance(), 1);
  EXPECT_EQ(make_prefetcher("affinity-fit:2", {&t})->name(), "affinity-fit:2:1");
  EXPECT_EQ(make_prefetcher("path", {&t})->name(), "path:0:1");
  for (const char* bad :
       {"bogus", "affinity:x", "freq:1:2:3:4", "same-prev:0", "freq:2:0", "none:1"})
    EXPECT_THROW(make_prefetcher(bad, {}), Error) << bad;
  EXPECT_THROW(make_prefetcher("path", {}), Error);
  EXPECT_THROW(make_prefetcher("affinity-fit", {}), Error);
}

}  // namespace
}  // namespace moescope::policy
