#pragma once
// The prefetch cost model (issue #18, "offloading that pays"). A prediction is a bet: a correct
// prefetch saves the demand load its target layer would stall on; a wrong one occupies the link
// as long (a demand load queued behind it waits) and may have evicted an expert that is routed
// again (it comes back as a miss). So a gated prefetch is issued only when
//   1. the link has time for it: queued behind what is already on the link, it lands before the
//      target layer is expected to start (when the running step's demand loads are in, plus d
//      layers of compute), and
//   2. its expected saving exceeds its expected cost:
//        p · T(b)  >  (1 − p) · T(b) + r · T(b_victim)
//      with p the probability that the expert is routed at the target, r the probability that an
//      expert a prefetch evicts is routed at its layer's next step, and T(b) the link's time for
//      b bytes (on an unlimited link the bytes themselves: time is free, copies are not).
// The estimates are learnt online from the stream itself, so that a replay decides exactly as the
// live run did: p per target layer and rank in the prediction (Laplace-smoothed hits of earlier
// predictions of experts that were not resident — the only ones a prefetch bets on, and routed
// less often than the cached ones — scored whether or not they were issued, so a gate that issues
// nothing still learns), r per layer from what became of earlier prefetch victims, and a layer's
// compute time as a moving average of the decode steps' compute times.
#include <cstdint>
#include <span>
#include <vector>

#include "engine/policy/link_model.h"
#include "engine/policy/moe_shape.h"

namespace moescope::policy {

struct PrefetchBet {
  uint64_t bytes = 0;
  double p_hit = 0;           // probability the expert is routed at the target
  uint64_t victim_bytes = 0;  // 0: the expert fits without evicting
  double victim_regret = 0;   // probability the victim is routed at its layer's next step
};

// Condition 2: the bet's expected saving exceeds its expected cost on `link`.
bool prefetch_pays(const LinkModel& link, const PrefetchBet& bet);

class PrefetchGate {
 public:
  PrefetchGate(const MoeShape& shape, LinkModel link, int64_t layer_ns_prior);

  // What was learnt: the expert at `rank` of a prediction for layer `target` was (not) routed.
  void score(MoeLayerId target, int32_t rank, bool routed);
  // A decode layer computed for compute_ns.
  void on_decode_compute(int64_t compute_ns);
  // A prefetch evicted `victim` at stream position `position` (token · layers + layer).
  void on_victim(ExpertKey victim, int64_t position);
  // A step of `layer` at `position` uses `used`: victims evicted before it are resolved.
  void on_step(MoeLayerId layer, int64_t position, std::span<const ExpertKey> used);

  double hit_probability(MoeLayerId target, int32_t rank) const;
  double victim_regret(MoeLayerId layer) const;
  int64_t layer_ns() const { return layer_ns_; }
  const LinkModel& link() const { return link_; }

 private:
  struct Victim {
    int32_t expert;
    int64_t position;
  };
  struct Tally {
    int64_t yes = 0, all = 0;
  };

  LinkModel link_;
  std::vector<std::vector<Tally>> rank_hits_;  // [layer][rank]
  std::vector<Tally> regret_;                  // [layer]
  std::vector<std::vector<Victim>> victims_;   // [layer] unresolved
  int64_t layer_ns_;
};

}  // namespace moescope::policy
