#include <gtest/gtest.h>

#include <cmath>

#include "engine/common/error.h"
#include "engine/placement/contiguous.h"
#include "engine/placement/ep_simulator.h"
#include "tests/engine/placement/placement_test_util.h"

namespace moescope::placement {
namespace {

using testing::make_routing;

SimOptions small_options() {
  SimOptions o;
  o.hidden = 10;
  o.dtype_bytes = 2;  // 20 bytes per token message
  o.intra_gbps = 1;   // 1 byte per ns
  o.inter_gbps = 0.5;
  o.expert_ns = 10;
  return o;
}

// Two tokens, homes 0 and 1 (round-robin by token), 4 experts on 2 devices: experts 0, 1 on
// device 0 and 2, 3 on device 1.
TEST(EpSimulator, HandBuiltRoutingOnOneNode) {
  const policy::RoutingTrace trace = make_routing({{{0, 1}, {0, 2}}, {{0, 2}, {2, 3}}}, 4);
  const TraceRoutingSource source(trace);
  const Placement p = contiguous_placement({4, 4}, Topology{.devices = 2, .nodes = 1}, 0);
  const auto m = simulate(source, {0, 2}, {p}, small_options()).at(0);
  ASSERT_EQ(m.layers.size(), 2u);
  EXPECT_EQ(m.layers[0].device_load, (std::vector<double>{3, 1}));
  EXPECT_EQ(m.layers[1].device_load, (std::vector<double>{1, 3}));
  EXPECT_DOUBLE_EQ(m.layers[0].balancedness, 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(m.balancedness(), 2.0 / 3.0);
  // Token 0 stays home at layer 0 and sends once to device 1 at layer 1; token 1 (home 1) sends
  // once to device 0 at layer 0 and stays home at layer 1.
  EXPECT_DOUBLE_EQ(m.layers[0].dispatch_intra_bytes, 20);
  EXPECT_DOUBLE_EQ(m.layers[1].dispatch_intra_bytes, 20);
  EXPECT_DOUBLE_EQ(m.layers[0].combine_intra_bytes, 20);
  EXPECT_DOUBLE_EQ(m.inter_bytes(), 0);
  EXPECT_DOUBLE_EQ(m.intra_bytes(), 80);
  // Pairs kept on a device: token 0 (0,0)->(0,1): 2 of 4; token 1 (0,1)->(1,1): 2 of 4.
  EXPECT_DOUBLE_EQ(m.same_device_fraction(), 0.5);
  // Steps: token 0 loads (2, 0) -> 0.5; token 1 (1, 1) -> 1 at layer 0.
  EXPECT_DOUBLE_EQ(m.layers[0].step_balancedness, 0.75);
  EXPECT_DOUBLE_EQ(m.layers[0].step_straggler, 1.5);
  EXPECT_DOUBLE_EQ(m.layers[0].compute_ns, 30);
  EXPECT_DOUBLE_EQ(m.layers[0].dispatch_ns, 20);
  EXPECT_DOUBLE_EQ(m.layers[0].combine_ns, 20);
  EXPECT_EQ(m.steps, 2);
  // The all-to-all matrix: messages home -> destination, over both layers.
  EXPECT_EQ(m.traffic, (std::vector<double>{2, 1, 1, 2}));
}

TEST(EpSimulator, AcrossNodesATokenGoesOncePerNode) {
  // 4 devices on 2 nodes (0, 1 | 2, 3), one expert per device, every token from request 0.
  const policy::RoutingTrace trace = make_routing({{{2, 3}}, {{1, 2}}, {{0, 1}}}, 4);
  const TraceRoutingSource source(trace, {RequestId{0}, RequestId{4}, RequestId{8}});
  const Placement p = contiguous_placement({4}, Topology{.devices = 4, .nodes = 2}, 0);
  const auto m = simulate(source, {0, 3}, {p}, small_options()).at(0);
  // {2, 3}: one inter-node message; {1, 2}: one intra + one inter; {0, 1}: one intra.
  EXPECT_DOUBLE_EQ(m.layers[0].dispatch_inter_bytes, 40);
  EXPECT_DOUBLE_EQ(m.layers[0].dispatch_intra_bytes, 40);
  EXPECT_DOUBLE_EQ(m.layers[0].combine_inter_bytes, 40);
  EXPECT_EQ(m.layers[0].device_load, (std::vector<double>{1, 2, 2, 1}));
  EXPECT_DOUBLE_EQ(m.layers[0].balancedness, 1.5 / 2.0);
  // First token: 20 bytes at 0.5 B/ns over RDMA.
  EXPECT_DOUBLE_EQ(m.layers[0].dispatch_ns, 40 + (20 + 40) + 20);
}

TEST(EpSimulator, ReplicasOnTheHomeDeviceServeItsTokens) {
  // Two experts, two devices, two redundant slots: both devices hold both experts.
  const policy::RoutingTrace trace = make_routing({{{0, 1}}, {{1, 0}}, {{0, 1}}}, 2);
  const TraceRoutingSource source(trace);
  const Placement p = contiguous_placement({2}, Topology{.devices = 2, .nodes = 1}, 2);
  const auto m = simulate(source, {0, 3}, {p}, small_options()).at(0);
  EXPECT_DOUBLE_EQ(m.intra_bytes(), 0);
  EXPECT_EQ(m.layers[0].device_load, (std::vector<double>{4, 2}));
}

TEST(EpSimulator, RecordedStepsGroupTokens) {
  const policy::RoutingTrace trace = make_routing({{{0}}, {{1}}, {{0}}, {{1}}}, 2);
  const TraceRoutingSource source(trace, {}, {0, 0, 1, 1});
  const Placement p = contiguous_placement({2}, Topology{.devices = 2, .nodes = 1}, 0);
  const auto m = simulate(source, {0, 4}, {p}, small_options()).at(0);
  EXPECT_EQ(m.steps, 2);
  EXPECT_DOUBLE_EQ(m.layers[0].step_balancedness, 1.0);
  EXPECT_DOUBLE_EQ(m.layers[0].compute_ns, 20);
  EXPECT_EQ(steps_from_calls({0, 3, 4}, 6), (std::vector<int64_t>{0, 0, 0, 1, 2, 2}));
}

TEST(EpSimulator, RejectsBadOptionsAndPlacements) {
  const policy::RoutingTrace trace = make_routing({{{0}}}, 4);
  const TraceRoutingSource source(trace);
  SimOptions bad = small_options();
  bad.hidden = 0;
  const Placement p = contiguous_placement({4}, Topology{.devices = 2, .nodes = 1}, 0);
  EXPECT_THROW(simulate(source, {0, 1}, {p}, bad), Error);
  Placement broken = p;
  broken.layers[0].phy2log[0] = ExpertId(1);  // expert 0 has no replica
  EXPECT_THROW(simulate(source, {0, 1}, {broken}, small_options()), Error);
  EXPECT_THROW(contiguous_placement({4}, Topology{.devices = 3, .nodes = 1}, 0), Error);
  EXPECT_THROW(contiguous_placement({4}, Topology{.devices = 4, .nodes = 3}, 0), Error);
}

}  // namespace
}  // namespace moescope::placement
