// Link presets and parsing, the modelled loader's queueing, and stall accounting.
#include <gtest/gtest.h>

#include "engine/common/error.h"
#include "engine/policy/loader_model.h"
#include "engine/policy/policies.h"
#include "tests/engine/policy/policy_test_util.h"

namespace moescope::policy {
namespace {

TEST(LinkModel, PresetsAndTransferTimes) {
  EXPECT_EQ(LinkModel::preset_names().size(), 7u);
  for (std::string_view name : LinkModel::preset_names())
    EXPECT_EQ(LinkModel::preset(name).name, name);
  EXPECT_TRUE(LinkModel::preset("none").unlimited());
  EXPECT_EQ(LinkModel::preset("none").transfer_ns(1 << 30), 0);
  // 1 MB over PCIe 4.0 x16 at 25 GB/s: 40 us + 10 us latency.
  EXPECT_EQ(LinkModel::preset("pcie4x16").transfer_ns(1'000'000), 50'000);
  // The slower the link, the longer a load.
  int64_t previous = 0;
  for (const char* name : {"pcie4x16", "pcie3x16", "nvme", "ufs31", "sata-ssd", "emmc"}) {
    const int64_t ns = LinkModel::preset(name).transfer_ns(64 << 20);
    EXPECT_GT(ns, previous) << name;
    previous = ns;
  }
  EXPECT_THROW(LinkModel::preset("floppy"), Error);
}

TEST(LinkModel, ParsesBandwidthDurationAndByteSizes) {
  EXPECT_DOUBLE_EQ(parse_bandwidth("12GB/s"), 12e9);
  EXPECT_DOUBLE_EQ(parse_bandwidth("500MiB/s"), 500.0 * 1024 * 1024);
  EXPECT_DOUBLE_EQ(parse_bandwidth("2.5e9"), 2.5e9);
  EXPECT_EQ(parse_duration_ns("80us"), 80'000);
  EXPECT_EQ(parse_duration_ns("1.5ms"), 1'500'000);
  EXPECT_EQ(parse_duration_ns("0"), 0);
  EXPECT_EQ(Budget::parse_bytes("256MiB").amount, 256u << 20);
  EXPECT_EQ(Budget::parse_bytes("1.5GB").amount, 1'500'000'000u);
  for (const char* bad : {"fast", "-1GB/s", "0GB/s", "5 parsecs", ""})
    EXPECT_THROW(parse_bandwidth(bad), Error) << bad;
  for (const char* bad : {"soon", "3 days", "1e30s"}) EXPECT_THROW(parse_duration_ns(bad), Error);
  for (const char* bad : {"lots", "12XB", "1e30GB"}) EXPECT_THROW(Budget::parse_bytes(bad), Error);
}

TEST(LoaderModel, DemandJumpsQueuedPrefetchesButNotTheLoadOnTheLink) {
  LoaderModel loader(LinkModel{"test", 1e9, 0});  // 1 MB = 1 ms
  loader.enqueue_prefetch(1, 1'000'000, 0, 5);
  loader.enqueue_prefetch(2, 1'000'000, 0, 5);
  loader.advance_to(500'000);  // prefetch 1 is on the link
  loader.enqueue_demand(3, 1'000'000, 500'000);
  EXPECT_EQ(loader.complete(3), 2'000'000);
  EXPECT_EQ(loader.complete(2), 3'000'000);
  std::vector<LoaderModel::Started> started;
  loader.take_started(started);
  ASSERT_EQ(started.size(), 3u);
  EXPECT_EQ(started[0].id, 1u);
  EXPECT_EQ(started[0].end_ns, 1'000'000);
  // Prefetches go by target order; a promoted one joins the demand queue; cancel drops one.
  loader.enqueue_prefetch(4, 1'000'000, 3'000'000, 9);
  loader.enqueue_prefetch(5, 1'000'000, 3'000'000, 7);
  loader.enqueue_prefetch(6, 1'000'000, 3'000'000, 8);
  EXPECT_TRUE(loader.promote(4));
  EXPECT_TRUE(loader.cancel(6));
  EXPECT_EQ(loader.complete(5), 5'000'000);  // 4 (now demand) first, then 5
  EXPECT_FALSE(loader.cancel(5));
  EXPECT_TRUE(loader.idle());
}

TEST(Simulator, StallIsTheWaitForDemandLoads) {
  // One layer, one slot, 1 MB experts over 1 GB/s (1 ms each), 1 ms compute per layer.
  const RoutingTrace t = testing::make_trace({{{0}}, {{0}}, {{1}}, {{1}}}, 2, 0, 1'000'000);
  const CacheReport r = testing::run(t, "lru", CacheCapacity::uniform(1, 1),
                                     {.timing = {LinkModel{"test", 1e9, 50'000}, 1'000'000, 0}});
  // Misses at tokens 0 and 2, each 1.05 ms; hits at 1 and 3.
  EXPECT_EQ(r.total().stall_ns, 2'100'000);
  EXPECT_EQ(r.token[2].stall_ns, 1'050'000);
  EXPECT_EQ(r.token[1].stall_ns, 0);
  EXPECT_EQ(r.end_ns, 4'000'000 + 2'100'000);
  EXPECT_EQ(r.total().bytes_loaded, 2'000'000);
}

TEST(Simulator, PrefillAndDecodeAreCountedApart) {
  const RoutingTrace t = testing::make_trace({{{0, 1}}, {{1, 2}}, {{0, 3}}, {{0, 1}}}, 4, 3);
  const CacheReport r = testing::run(t, "lru", CacheCapacity::uniform(1, 4));
  EXPECT_EQ(r.phase[0].accesses, 4);  // one chunk, 4 distinct experts
  EXPECT_EQ(r.phase[0].misses, 4);
  EXPECT_EQ(r.phase[1].accesses, 2);
  EXPECT_EQ(r.phase[1].hits, 2);
  EXPECT_EQ(r.token[0].accesses, 4);  // the chunk is booked on its first token
  EXPECT_EQ(r.token[3].hits, 2);
}

TEST(Simulator, ByteBudgetsEvictUntilTheNewcomerFits) {
  // Layer 0 experts are 100 bytes, layer 1 experts 300; a global pool of 400 bytes.
  MoeShape shape;
  shape.n_experts = {4, 4};
  shape.top_k = {1, 1};
  shape.expert_bytes = {100, 300};
  RoutingTraceBuilder b(shape, false);
  for (auto [a, c] : std::vector<std::pair<int, int>>{{0, 0}, {1, 0}, {2, 1}}) {
    b.begin_token(Phase::kDecode);
    b.add_layer(std::vector<ExpertId>{ExpertId(a)}, std::vector<float>{1});
    b.add_layer(std::vector<ExpertId>{ExpertId(c)}, std::vector<float>{1});
  }
  const RoutingTrace t = b.finish();
  // a0(100) b0(300) = 400, full; a1 evicts a0 (LRU); b0 hits; a2 evicts a1; b1 (300) does not
  // fit beside b0 + a2 and evicts b0 (LRU): a2 + b1 = 400.
  const CacheReport r = testing::run(t, "lru-global", CacheCapacity::global_bytes(400));
  EXPECT_EQ(r.total().hits, 1);
  EXPECT_EQ(r.total().evictions, 3);
  EXPECT_EQ(r.total().bytes_loaded, 100 + 300 + 100 + 100 + 300);
}

}  // namespace
}  // namespace moescope::policy
