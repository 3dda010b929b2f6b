#pragma once
// Makes a real load take as long as it would over the emulated link: a load that started at t0
// and moved `bytes` is held until t0 + latency + bytes / bandwidth (steady clock). Loads that are
// slower than the link on this machine are not delayed further.
#include <chrono>
#include <cstdint>

#include "engine/policy/link_model.h"

namespace moescope::offload {

class LinkPacer {
 public:
  using Clock = std::chrono::steady_clock;

  explicit LinkPacer(policy::LinkModel link) : link_(std::move(link)) {}

  const policy::LinkModel& link() const { return link_; }
  // When a load of `bytes` that started at `start` completes on the link.
  Clock::time_point deadline(Clock::time_point start, uint64_t bytes) const;
  // Sleeps until deadline(start, bytes); returns the nanoseconds slept (0 if already past).
  int64_t pace(Clock::time_point start, uint64_t bytes) const;

 private:
  policy::LinkModel link_;
};

}  // namespace moescope::offload
