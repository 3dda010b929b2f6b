#pragma once
// Turns the decisions of a policy::CacheSimulator into trace cache events: per access a hit, miss,
// bypass, prefetch use or late prefetch; per load a prefetch issue; per eviction an eviction (and
// "wasted" when the expert was prefetched and never used). What became of each access is
// policy::StepOutcomes' reading of the simulator; this tap spells it as storage's events.
//
//   CacheEventTap tap(shape);  sim.set_listener(&tap.listener());
//   tap.begin_step(sim, in);  sim.step(in);  tap.end_step(sim, events);
//
// The counts of the events equal the simulator's counters (misses, bypasses, evictions,
// prefetch_issued/used/late/wasted). A step's modelled stall is booked as the wait of its last
// demand load (or late prefetch).
#include <cstdint>
#include <vector>

#include "engine/policy/step_outcomes.h"
#include "storage/trace_types.h"

namespace moescope::storage {

class CacheEventTap {
 public:
  explicit CacheEventTap(const policy::MoeShape& shape);

  policy::CacheListener& listener() { return outcomes_; }
  void begin_step(const policy::CacheSimulator& sim, const policy::StepInput& in);
  // Appends the step's events; t_ns stamps them (the time the step ran, -1 unknown).
  void end_step(const policy::CacheSimulator& sim, std::vector<CacheEvent>& out, int64_t t_ns = -1);

 private:
  const policy::MoeShape& shape_;
  policy::StepOutcomes outcomes_;
  int32_t first_pos_ = 0;
};

}  // namespace moescope::storage
