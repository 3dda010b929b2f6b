#pragma once
// What became of each access of a step, read off a CacheSimulator. The simulator reports only
// loads and evictions (CacheListener); the step's accesses are its experts, so this listener
// brackets each step:
//
//   StepOutcomes o(shape);  sim.set_listener(&o);
//   o.step(sim, in);        // begin_step(sim, in); sim.step(in); end_step(sim)
//   o.accesses(), o.ops()
//
// Per access a hit, miss (demand load, admitted), bypass (demand load, not admitted), prefetch hit
// (first use of a prefetched expert) or late prefetch hit (... still loading). Which of a step's
// prefetch uses were late is inferred: the simulator counts them per step, and the latest issued
// prefetches are taken to be the late ones. Per load and eviction an op, an eviction of a
// prefetched expert never used marked wasted. The counts equal the simulator's counters.
//
// replay_with_outcomes is the one loop that feeds a recorded stream through a simulator; the
// storage's cache events (storage/cache_event_tap) and the GUI's per-access analysis
// (cache_analysis) read its outcomes.
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "engine/policy/simulator.h"

namespace moescope::policy {

enum class Outcome : uint8_t { kHit, kMiss, kBypass, kPrefetchHit, kLateHit };
inline bool is_miss(Outcome o) {
  return o == Outcome::kMiss || o == Outcome::kBypass;
}
inline bool is_prefetch_hit(Outcome o) {
  return o == Outcome::kPrefetchHit || o == Outcome::kLateHit;
}

class StepOutcomes final : public CacheListener {
 public:
  struct Access {
    ExpertId expert;  // the step's experts, in use order
    TokenPos token;   // the first token of the step routed to it (a prefill access serves all)
    Outcome outcome = Outcome::kHit;
  };
  struct Op {
    enum Kind : uint8_t { kDemand, kBypassLoad, kPrefetch, kEvict } kind;
    ExpertKey key;
    bool wasted = false;  // kEvict of a prefetched expert that was never used
  };

  explicit StepOutcomes(const MoeShape& shape);

  void begin_step(const CacheSimulator& sim, const StepInput& in);
  void end_step(const CacheSimulator& sim);
  // One whole step of `sim` (listening to it), with its outcomes.
  void step(CacheSimulator& sim, const StepInput& in);

  // The last ended step.
  MoeLayerId layer() const { return layer_; }
  std::span<const Access> accesses() const { return accesses_; }
  // Accesses whose prefetched expert was still loading, indices into accesses(), latest issued
  // first (their outcome is kLateHit).
  std::span<const size_t> late() const { return late_; }
  std::span<const Op> ops() const { return ops_; }  // loads and evictions in the order made
  int64_t stall_ns() const { return stall_ns_; }    // modelled time the step waited for loads

  void on_load(ExpertKey key, bool prefetch, bool admitted) override;
  void on_evict(ExpertKey key) override;

 private:
  const MoeShape& shape_;
  std::vector<uint8_t> prefetched_unused_;  // [total experts]
  std::vector<uint64_t> prefetch_seq_;      // [total experts] issue order of the last prefetch
  uint64_t next_seq_ = 1;

  Phase phase_ = Phase::kDecode;
  MoeLayerId layer_;
  std::vector<Access> accesses_;
  std::vector<size_t> late_;
  std::vector<Op> ops_;
  int64_t stall_ns_ = 0;
  CacheCounters before_;
};

// Called after each replayed step with the step and its outcomes.
using StepCallback = std::function<void(const StepInput&, const StepOutcomes&)>;

// Feeds a recorded stream through a simulator (compute times from the trace when it has them),
// step by step; with `on_step`, tells it what became of every access. The simulator's listener is
// taken for the replay and cleared after.
const CacheReport& replay_with_outcomes(const RoutingTrace& trace, const AccessStream& stream,
                                        CacheSimulator& sim, const StepCallback& on_step);

}  // namespace moescope::policy
