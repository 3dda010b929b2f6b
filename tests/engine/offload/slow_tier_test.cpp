// The slow tier read from the device (O_DIRECT, or after dropping the page cache) and a
// cost-gated prefetcher through the real forward pass: logits bit-identical to the resident run,
// the live decisions (gate included) equal to a replay of the recorded routing with the measured
// compute times, and the read time that gives the device's bandwidth is booked.
#include <gtest/gtest.h>

#include <cstring>

#include "engine/common/error.h"
#include "engine/model/routing_trace_recorder.h"
#include "engine/offload/expert_source.h"
#include "engine/offload/expert_store.h"
#include "engine/policy/policy_factory.h"
#include "engine/policy/simulator.h"
#include "tests/engine/offload/offload_test_util.h"

namespace moescope::offload {
namespace {

TEST(SlowTier, DeviceReadsAndGatedPrefetchKeepLogitsAndReplay) {
  auto model = test::load_model("llama-moe-q8_0");
  const ExpertLayout layout = test::layout_of(*model);
  const test::GenRun resident = test::greedy_run(*model, 12, 977, 13, 8);
  for (const SlowTierRead read : {SlowTierRead::kDirect, SlowTierRead::kDropCache}) {
    for (const std::string prefetcher : {"affinity:2+cost", "same-prev+cost"}) {
      SCOPED_TRACE(std::string(slow_tier_read_name(read)) + " / " + prefetcher);
      OffloadConfig config;
      config.capacity = policy::CacheCapacity::uniform(layout.n_layers(), 1);
      config.prefetcher = prefetcher;
      config.link = policy::LinkModel::preset("nvme");
      config.read = read;
      RoutingTraceRecorder recorder(*model, false);
      auto store = ExpertStore::attach(*model, config, &recorder);
      const test::GenRun offloaded = test::greedy_run(*model, 12, 977, 13, 8);
      store->detach(*model);
      model->set_observer(nullptr);

      ASSERT_EQ(offloaded.tokens, resident.tokens);
      ASSERT_EQ(offloaded.logits.size(), resident.logits.size());
      EXPECT_EQ(std::memcmp(offloaded.logits.data(), resident.logits.data(),
                            resident.logits.size() * sizeof(float)),
                0);
      const StoreStats s = store->stats();
      EXPECT_GT(s.link_bytes, 0);
      EXPECT_GT(s.read_ns, 0);
      EXPECT_LE(s.read_ns, s.load_ns);

      policy::RoutingTrace trace = recorder.finish();
      trace.compute_ns = store->compute_times();
      const auto stream = policy::AccessStream::build(trace);
      policy::TimingModel timing;
      timing.link = config.link;
      policy::CacheSimulator sim(trace.shape, store->capacity(),
                                 policy::make_policy(policy::parse_policy_spec("lru"), {}),
                                 policy::make_prefetcher(prefetcher, {}), timing, "lru");
      EXPECT_TRUE(policy::replay(trace, stream, sim) == store->decisions())
          << "replay differs from the live run";
    }
  }
}

TEST(SlowTier, BadChoicesAreOneLineErrors) {
  EXPECT_EQ(parse_slow_tier_read("direct"), SlowTierRead::kDirect);
  EXPECT_EQ(parse_slow_tier_read("dropcache"), SlowTierRead::kDropCache);
  EXPECT_EQ(parse_slow_tier_read("cache"), SlowTierRead::kPageCache);
  EXPECT_THROW(parse_slow_tier_read("odirect"), Error);
  OffloadFlags flags;
  flags.expert_slots = "4";
  flags.expert_read = "direct";
  EXPECT_EQ(make_offload_config(flags).read, SlowTierRead::kDirect);
  flags.expert_pack = "experts.mxp";  // packs are read through the page cache
  EXPECT_THROW(make_offload_config(flags), Error);
}

}  // namespace
}  // namespace moescope::offload
