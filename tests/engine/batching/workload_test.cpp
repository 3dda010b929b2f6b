// Arrival patterns and percentiles.
#include <gtest/gtest.h>

#include <numeric>

#include "engine/batching/workload.h"
#include "engine/common/error.h"

namespace moescope::batching {
namespace {

TEST(Workload, ArrivalsParseAndFollowTheRate) {
  EXPECT_EQ(parse_arrival("all", 1).rate, 0.0);
  EXPECT_EQ(parse_arrival("poisson:2.5", 1).rate, 2.5);
  for (const char* bad :
       {"poisson:", "poisson:0", "poisson:-1", "poisson:x", "burst", "poisson:1x"}) {
    EXPECT_THROW(parse_arrival(bad, 1), Error) << bad;
  }
  const auto all = arrival_times(parse_arrival("all", 1), 5);
  EXPECT_EQ(all, std::vector<double>(5, 0.0));
  const auto t = arrival_times(parse_arrival("poisson:4", 7), 4000);
  EXPECT_TRUE(std::is_sorted(t.begin(), t.end()));
  EXPECT_GT(t.front(), 0.0);
  // Mean gap 1/4 s: 4000 arrivals within 1000 s ± 5 % (the standard error is 1.6 %).
  EXPECT_NEAR(t.back(), 1000.0, 50.0);
  EXPECT_EQ(arrival_times(parse_arrival("poisson:4", 7), 4000), t);  // seeded
  EXPECT_NE(arrival_times(parse_arrival("poisson:4", 8), 4000), t);
}

TEST(Workload, PercentilesInterpolateBetweenRanks) {
  EXPECT_EQ(percentile({}, 50), 0.0);
  EXPECT_EQ(percentile({3, 1, 2}, 50), 2.0);
  EXPECT_DOUBLE_EQ(percentile({1, 2, 3, 4}, 50), 2.5);
  EXPECT_DOUBLE_EQ(percentile({10, 20}, 95), 19.5);
  EXPECT_EQ(percentile({5}, 95), 5.0);
}

}  // namespace
}  // namespace moescope::batching
