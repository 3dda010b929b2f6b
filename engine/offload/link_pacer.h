#pragma once
// Makes a real load take as long as it would over the emulated link. One load on an idle link that
// started at t0 and moved `bytes` is held until t0 + latency + bytes / bandwidth (pace). The
// loader's loads follow a running schedule instead (pace_scheduled): a load goes on the link when
// it is queued and the link is free — at the previous load's deadline, not when the loader woke up
// from sleeping to it — so that the few tens of microseconds every sleep oversleeps never add up
// over a queue of loads, and the link keeps the bandwidth it promises. Loads whose read is slower
// than the link on this machine are not delayed further, and the schedule restarts from their end
// (a slow read earns no credit for later loads).
#include <chrono>
#include <cstdint>
#include <optional>

#include "engine/policy/link_model.h"

namespace moescope::offload {

// The clock the pacer reads and sleeps on: the steady clock, or a fake one in tests.
class PacerClock {
 public:
  using Clock = std::chrono::steady_clock;
  virtual ~PacerClock() = default;
  virtual Clock::time_point now() const = 0;
  virtual void sleep_until(Clock::time_point t) const = 0;
  static const PacerClock& steady();
};

class LinkPacer {
 public:
  using Clock = PacerClock::Clock;

  explicit LinkPacer(policy::LinkModel link, const PacerClock& clock = PacerClock::steady())
      : link_(std::move(link)), clock_(&clock) {}

  const policy::LinkModel& link() const { return link_; }
  // When a load of `bytes` that started at `start` completes on the link.
  Clock::time_point deadline(Clock::time_point start, uint64_t bytes) const;
  // One load on an idle link: sleeps until deadline(start, bytes); returns the nanoseconds slept
  // (0 if already past).
  int64_t pace(Clock::time_point start, uint64_t bytes) const;

  // The load of `bytes` queued at `queued`, whose read has just finished (now): its absolute
  // deadline on the running schedule is max(queued, link free) + transfer, or now if that has
  // passed (the schedule then restarts from now). schedule() books it and returns the deadline;
  // pace_scheduled() also sleeps until then and returns the nanoseconds slept.
  struct Slot {
    Clock::time_point start, end;  // on the link: end is the deadline
  };
  Slot schedule(Clock::time_point queued, uint64_t bytes);
  int64_t pace_scheduled(Clock::time_point queued, uint64_t bytes);
  const PacerClock& clock() const { return *clock_; }
  // When the link is free on the schedule (the last load's deadline); empty before any load.
  std::optional<Clock::time_point> link_free() const { return free_; }

 private:
  policy::LinkModel link_;
  const PacerClock* clock_;
  std::optional<Clock::time_point> free_;
};

}  // namespace moescope::offload
