#include "engine/offload/link_pacer.h"

#include <algorithm>
#include <thread>

namespace moescope::offload {

namespace {

class SteadyClock final : public PacerClock {
 public:
  Clock::time_point now() const override { return Clock::now(); }
  void sleep_until(Clock::time_point t) const override { std::this_thread::sleep_until(t); }
};

}  // namespace

const PacerClock& PacerClock::steady() {
  static const SteadyClock clock;
  return clock;
}

LinkPacer::Clock::time_point LinkPacer::deadline(Clock::time_point start, uint64_t bytes) const {
  if (link_.unlimited()) return start;
  return start + std::chrono::nanoseconds(link_.transfer_ns(bytes));
}

int64_t LinkPacer::pace(Clock::time_point start, uint64_t bytes) const {
  const Clock::time_point until = deadline(start, bytes);
  const Clock::time_point now = clock_->now();
  if (until <= now) return 0;
  clock_->sleep_until(until);
  return std::chrono::duration_cast<std::chrono::nanoseconds>(clock_->now() - now).count();
}

LinkPacer::Slot LinkPacer::schedule(Clock::time_point queued, uint64_t bytes) {
  const Clock::time_point now = clock_->now();
  if (link_.unlimited()) return {now, now};
  const Clock::time_point start = free_ ? std::max(*free_, queued) : queued;
  // Absolute: whatever a sleep oversleeps is not carried into the next load; a read slower than
  // the link restarts the schedule from its end.
  free_ = std::max(deadline(start, bytes), now);
  return {start, *free_};
}

int64_t LinkPacer::pace_scheduled(Clock::time_point queued, uint64_t bytes) {
  const Clock::time_point until = schedule(queued, bytes).end;
  const Clock::time_point now = clock_->now();
  if (until <= now) return 0;
  clock_->sleep_until(until);
  return std::chrono::duration_cast<std::chrono::nanoseconds>(clock_->now() - now).count();
}

}  // namespace moescope::offload
