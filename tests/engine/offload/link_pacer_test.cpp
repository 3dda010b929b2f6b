// The emulated link's running schedule, driven by a fake clock whose sleeps always oversleep:
// deadlines are absolute, so the oversleep never accumulates over a queue of loads.
#include <gtest/gtest.h>

#include <chrono>
#include <vector>

#include "engine/offload/link_pacer.h"

namespace moescope::offload {
namespace {

using std::chrono::microseconds;
using Clock = LinkPacer::Clock;

// now() is set by the test; sleep_until(t) wakes `oversleep` after t, as a loaded machine does.
class FakeClock final : public PacerClock {
 public:
  explicit FakeClock(Clock::duration oversleep) : oversleep_(oversleep) {}
  Clock::time_point now() const override { return now_; }
  void sleep_until(Clock::time_point t) const override {
    woke_for.push_back(t);
    if (t > now_) now_ = t + oversleep_;
  }
  void advance(Clock::duration d) { now_ += d; }

  mutable std::vector<Clock::time_point> woke_for;  // every deadline slept for

 private:
  Clock::duration oversleep_;
  mutable Clock::time_point now_{};
};

// 100 us per load: 20 us latency + 80 000 bytes at 1 GB/s.
policy::LinkModel slow_link() {
  policy::LinkModel link;
  link.name = "test";
  link.bandwidth_bytes_per_s = 1e9;
  link.latency_ns = 20'000;
  return link;
}
constexpr uint64_t kBytes = 80'000;

TEST(LinkPacerSchedule, QueuedLoadsEndOnAbsoluteDeadlinesDespiteOversleep) {
  FakeClock clock(microseconds(30));  // every sleep wakes 30 us late
  LinkPacer pacer(slow_link(), clock);
  const Clock::time_point t0 = clock.now();
  // Ten loads queued at t0, each read instantly when the loader gets to it.
  for (int i = 0; i < 10; ++i) pacer.pace_scheduled(t0, kBytes);
  ASSERT_EQ(clock.woke_for.size(), 10u);
  for (int i = 0; i < 10; ++i) {
    // Load i ends at t0 + (i + 1) * 100 us: not (i + 1) * 130 us, as pacing each load from the
    // time the loader woke up would give.
    EXPECT_EQ(clock.woke_for[size_t(i)], t0 + microseconds(100 * (i + 1))) << "load " << i;
  }
  // The queue took 10 x 100 us plus one oversleep, not ten.
  EXPECT_EQ(clock.now() - t0, microseconds(1030));
  EXPECT_EQ(pacer.link_free(), t0 + microseconds(1000));
}

TEST(LinkPacerSchedule, ALoadQueuedOnAnIdleLinkStartsWhenQueued) {
  FakeClock clock(microseconds(0));
  LinkPacer pacer(slow_link(), clock);
  const Clock::time_point t0 = clock.now();
  pacer.pace_scheduled(t0, kBytes);  // ends at t0 + 100
  clock.advance(microseconds(400));  // the link idles until t0 + 500
  const Clock::time_point queued = clock.now();
  EXPECT_EQ(pacer.pace_scheduled(queued, kBytes), 100'000);
  EXPECT_EQ(clock.woke_for.back(), queued + microseconds(100));
}

TEST(LinkPacerSchedule, AReadSlowerThanTheLinkEarnsNoCredit) {
  FakeClock clock(microseconds(0));
  LinkPacer pacer(slow_link(), clock);
  const Clock::time_point t0 = clock.now();
  clock.advance(microseconds(250));  // the read took 250 us, the link needs 100
  EXPECT_EQ(pacer.pace_scheduled(t0, kBytes), 0);
  EXPECT_TRUE(clock.woke_for.empty());
  // The next load, queued at t0 too, is on the link from now (t0 + 250), not from t0 + 100.
  EXPECT_EQ(pacer.link_free(), t0 + microseconds(250));
  pacer.pace_scheduled(t0, kBytes);
  EXPECT_EQ(clock.woke_for.back(), t0 + microseconds(350));
}

TEST(LinkPacerSchedule, UnlimitedLinksNeverSleep) {
  FakeClock clock(microseconds(30));
  LinkPacer pacer(policy::LinkModel{}, clock);
  EXPECT_EQ(pacer.pace_scheduled(clock.now(), 1ull << 40), 0);
  EXPECT_TRUE(clock.woke_for.empty());
}

}  // namespace
}  // namespace moescope::offload
