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

int64_t LinkPacer::pace_scheduled(Clock::time_point queued, uint64_t bytes) {
  if (link_.unlimited()) return 0;
  const Clock::time_point start = free_ ? std::max(*free_, queued) : queued;
  const Clock::time_point until = deadline(start, bytes);
  const Clock::time_point now = clock_->now();
  if (until <= now) {
    free_ = now;  // the read itself was slower than the link
    return 0;
  }
  free_ = until;  // absolute: whatever the sleep oversleeps is not carried into the next load
  clock_->sleep_until(until);
  return std::chrono::duration_cast<std::chrono::nanoseconds>(clock_->now() - now).count();
}

}  // namespace moescope::offload
