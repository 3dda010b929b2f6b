#pragma once
// Turns the decisions of a policy::CacheSimulator into trace cache events: per access a hit, miss,
// bypass, prefetch use or late prefetch; per load a prefetch issue; per eviction an eviction (and
// "wasted" when the expert was prefetched and never used). The simulator only reports loads and
// evictions (CacheListener); accesses are the step's experts, so the tap brackets each step.
//
//   CacheEventTap tap(shape);  sim.set_listener(&tap);
//   tap.begin_step(sim, in);  sim.step(in);  tap.end_step(sim, events);
//
// The counts of the events equal the simulator's counters (misses, bypasses, evictions,
// prefetch_issued/used/late/wasted). Which of a step's prefetch uses were late is inferred: the
// simulator counts them per step, and the tap marks the most recently issued ones. A step's
// modelled stall is booked as the wait of its last demand load (or late prefetch).
#include <cstdint>
#include <vector>

#include "engine/policy/simulator.h"
#include "storage/trace_types.h"

namespace moescope::storage {

class CacheEventTap final : public policy::CacheListener {
 public:
  explicit CacheEventTap(const policy::MoeShape& shape);

  void begin_step(const policy::CacheSimulator& sim, const policy::StepInput& in);
  // Appends the step's events; t_ns stamps them (the time the step ran, -1 unknown).
  void end_step(const policy::CacheSimulator& sim, std::vector<CacheEvent>& out, int64_t t_ns = -1);

  void on_load(ExpertKey key, bool prefetch, bool admitted) override;
  void on_evict(ExpertKey key) override;

 private:
  struct Op {
    enum Kind : uint8_t { kDemand, kBypassLoad, kPrefetch, kEvict } kind;
    ExpertKey key;
  };

  const policy::MoeShape& shape_;
  std::vector<uint8_t> prefetched_unused_;  // [total experts]
  std::vector<uint64_t> prefetch_seq_;      // [total experts] issue order of the last prefetch
  uint64_t next_seq_ = 1;

  // The running step.
  Phase phase_ = Phase::kDecode;
  int32_t first_pos_ = 0;
  LayerId layer_;
  std::vector<ExpertId> experts_;  // distinct, use order
  std::vector<int32_t> pos_of_;    // [experts_] first token routed to it
  std::vector<Op> ops_;
  policy::CacheCounters before_;
};

}  // namespace moescope::storage
