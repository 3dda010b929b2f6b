#include <gtest/gtest.h>

#include "engine/common/error.h"
#include "engine/offload/link_pacer.h"
#include "engine/offload/offload_config.h"

namespace moescope::offload {
namespace {

TEST(ByteSize, ParsesBinaryAndDecimalUnits) {
  EXPECT_EQ(parse_byte_size("256MiB"), 256ull << 20);
  EXPECT_EQ(parse_byte_size("1.5GiB"), 3ull << 29);
  EXPECT_EQ(parse_byte_size("2GB"), 2'000'000'000ull);
  EXPECT_EQ(parse_byte_size("4096"), 4096ull);
  EXPECT_THROW(parse_byte_size("lots"), Error);
  EXPECT_THROW(parse_byte_size("12XB"), Error);
  EXPECT_THROW(parse_byte_size(""), Error);
}

TEST(ByteSize, FormatsWithBinaryUnits) {
  EXPECT_EQ(format_bytes(512), "512 B");
  EXPECT_EQ(format_bytes(3ull << 29), "1.50 GiB");
}

TEST(OffloadFlags, BudgetOrSlotsExactlyOnce) {
  OffloadFlags f;
  EXPECT_THROW(make_offload_config(f), Error);
  f.expert_budget = "64MiB";
  f.expert_slots = "8";
  EXPECT_THROW(make_offload_config(f), Error);
  f.expert_slots.clear();
  OffloadConfig c = make_offload_config(f);
  EXPECT_EQ(c.budget.unit, policy::Budget::Unit::kBytes);
  EXPECT_EQ(c.budget.amount, 64ull << 20);
  f.expert_budget.clear();
  f.expert_slots = "12";
  c = make_offload_config(f);
  EXPECT_EQ(c.budget.unit, policy::Budget::Unit::kSlots);
  EXPECT_EQ(c.budget.amount, 12u);
  f.expert_slots = "12x";
  EXPECT_THROW(make_offload_config(f), Error);
  f.expert_slots = "-3";
  EXPECT_THROW(make_offload_config(f), Error);
}

TEST(OffloadFlags, LinkPresetsAndOverrides) {
  const policy::LinkModel nvme = make_link("nvme", "", "");
  EXPECT_EQ(nvme, policy::LinkModel::preset("nvme"));
  const policy::LinkModel slow = make_link("nvme", "1GB/s", "");
  EXPECT_EQ(slow.bandwidth_bytes_per_s, 1e9);
  EXPECT_EQ(slow.latency_ns, nvme.latency_ns);
  const policy::LinkModel custom = make_link("", "500MB/s", "2ms");
  EXPECT_EQ(custom.name, "custom");
  EXPECT_EQ(custom.latency_ns, 2'000'000);
  EXPECT_TRUE(make_link("", "", "").unlimited());
  EXPECT_THROW(make_link("floppy", "", ""), Error);
  EXPECT_THROW(make_link("", "fast", ""), Error);
}

TEST(LinkPacer, HoldsALoadForLatencyPlusTransfer) {
  policy::LinkModel link;
  link.bandwidth_bytes_per_s = 1e9;  // 1 byte per ns
  link.latency_ns = 3'000'000;
  const LinkPacer pacer(link);
  const auto start = LinkPacer::Clock::now();
  pacer.pace(start, 4'000'000);  // 3 ms + 4 ms
  EXPECT_GE(LinkPacer::Clock::now() - start, std::chrono::milliseconds(7));
  // Unlimited links never wait.
  const LinkPacer none(policy::LinkModel{});
  EXPECT_EQ(none.pace(LinkPacer::Clock::now(), 1ull << 40), 0);
}

}  // namespace
}  // namespace moescope::offload
