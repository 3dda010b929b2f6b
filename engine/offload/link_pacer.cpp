#include "engine/offload/link_pacer.h"

#include <thread>

namespace moescope::offload {

LinkPacer::Clock::time_point LinkPacer::deadline(Clock::time_point start, uint64_t bytes) const {
  if (link_.unlimited()) return start;
  return start + std::chrono::nanoseconds(link_.transfer_ns(bytes));
}

int64_t LinkPacer::pace(Clock::time_point start, uint64_t bytes) const {
  const Clock::time_point until = deadline(start, bytes);
  const Clock::time_point now = Clock::now();
  if (until <= now) return 0;
  std::this_thread::sleep_until(until);
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - now).count();
}

}  // namespace moescope::offload
