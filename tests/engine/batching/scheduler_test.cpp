// The schedulers on hand-built candidates.
#include <gtest/gtest.h>

#include <vector>

#include "engine/batching/scheduler.h"
#include "engine/common/error.h"

namespace moescope::batching {
namespace {

Candidate cand(int id, int64_t tokens, int64_t waiting_since, const std::vector<uint8_t>& route) {
  return Candidate{RequestId(id), tokens, id, waiting_since, route};
}

TEST(Scheduler, FifoTakesTheOldestThatFit) {
  const std::vector<uint8_t> none;
  // Arrival order is the id; listed out of order on purpose.
  const std::vector<Candidate> c = {cand(2, 1, 0, none), cand(0, 10, 0, none), cand(1, 30, 0, none),
                                    cand(3, 1, 0, none)};
  auto fifo = make_scheduler("fifo");
  EXPECT_EQ(fifo->pick(c, {3, 64}), (std::vector<size_t>{1, 2, 0}));
  // 32 tokens: 0 (10) fits, 1 (30) does not, 2 and 3 do.
  EXPECT_EQ(fifo->pick(c, {3, 32}), (std::vector<size_t>{1, 0, 3}));
}

TEST(Scheduler, ExpertAwareAnchorsTheLongestWaitingAndAddsTheClosestRoutes) {
  // Routes over 6 (layer, expert) cells. The anchor is id 3 (waiting since step 1); id 1 shares
  // both of its experts, id 0 one of them, id 2 none.
  const std::vector<uint8_t> r0 = {1, 0, 1, 0, 0, 0};
  const std::vector<uint8_t> r1 = {1, 1, 0, 0, 0, 0};
  const std::vector<uint8_t> r2 = {0, 0, 0, 1, 1, 0};
  const std::vector<uint8_t> r3 = {1, 1, 0, 0, 0, 0};
  const std::vector<Candidate> c = {cand(0, 1, 5, r0), cand(1, 1, 5, r1), cand(2, 1, 5, r2),
                                    cand(3, 1, 1, r3)};
  auto aware = make_scheduler("expert-aware");
  EXPECT_EQ(aware->pick(c, {2, 64}), (std::vector<size_t>{3, 1}));
  EXPECT_EQ(aware->pick(c, {3, 64}), (std::vector<size_t>{3, 1, 0}));
  // A request with no prediction yet comes last, after every one with a route.
  const std::vector<uint8_t> none;
  const std::vector<Candidate> d = {cand(0, 1, 5, none), cand(1, 1, 5, r2), cand(2, 1, 1, r3)};
  EXPECT_EQ(aware->pick(d, {2, 64}), (std::vector<size_t>{2, 1}));
  // Token limits: the anchor must fit; a candidate that does not fit is skipped.
  const std::vector<Candidate> e = {cand(0, 50, 0, r0), cand(1, 10, 1, r1), cand(2, 5, 2, r2)};
  EXPECT_EQ(aware->pick(e, {3, 20}), (std::vector<size_t>{1, 2}));
}

TEST(Scheduler, UnknownNamesAreRefused) {
  EXPECT_THROW(make_scheduler("lifo"), Error);
}

}  // namespace
}  // namespace moescope::batching
