#pragma once
// Gating variants that change what the model computes, to trade quality for fewer expert loads.
// Always labelled lossy; their quality cost is measured with `moescope perplexity` and the same
// flags.
//  - adaptive top-k (AdapMoE, --adaptive-topk T): while a token keeps more than one expert and
//    the last kept one's weight, renormalised over the kept ones, is below the layer's threshold,
//    drop it; the kept experts share the dropped weight in proportion (so a top-2 token left with
//    one expert mixes it with the pair's total weight).
//  - cache-aware substitution (--substitute EPS): a selected expert that is not resident is
//    replaced by the resident, unselected expert with the highest router probability, provided
//    it is within EPS of the missed one's (probabilities as router_distribution() gives them);
//    the substitute takes over the slot's mixing weight. Residency is the driving cache's at the
//    time of routing.
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/common/ids.h"
#include "engine/model/hparams.h"
#include "engine/model/routing_override.h"
#include "engine/policy/moe_shape.h"

namespace moescope::offload {

struct LossyOptions {
  std::vector<float> adaptive_topk;  // [n_moe_layers] thresholds, or one for all; empty = off
  float substitute_eps = -1.0f;      // < 0 = off

  bool adaptive() const { return !adaptive_topk.empty(); }
  bool substitute() const { return substitute_eps >= 0.0f; }
  bool any() const { return adaptive() || substitute(); }
  // "adaptive-topk 0.3, substitute 0.05" (empty when exact).
  std::string describe() const;
};

// "0.3" or "0.1,0.2,0.3,0.3" (one per MoE layer), each in [0, 1); "0.05" in [0, 1]. Empty text
// leaves the variant off. Throws moescope::Error naming the flag.
LossyOptions parse_lossy(std::string_view adaptive_topk, std::string_view substitute);

struct LossyCounters {
  int64_t choices = 0;        // token-layer routing decisions seen
  int64_t dropped = 0;        // experts dropped by adaptive top-k
  int64_t substituted = 0;    // missed experts replaced by resident ones
  int64_t unsubstituted = 0;  // missed experts with no resident substitute within EPS
};

class LossyGating final : public RoutingOverride {
 public:
  // Whether expert e of MoE layer m is resident in the driving cache; needed for substitution.
  using Resident = std::function<bool(MoeLayerId moe_layer, ExpertId e)>;

  // `shape` names the MoE layer of each block (dense blocks are left alone). Throws when a
  // per-layer threshold list does not have one value per MoE layer, or substitution has no
  // residency.
  LossyGating(LossyOptions options, policy::MoeShape shape, GatingFunc gating,
              Resident resident = {});

  int32_t adjust(const RoutingChoice& choice) override;

  const LossyOptions& options() const { return options_; }
  LossyCounters counters() const;

 private:
  int32_t drop_trailing(MoeLayerId moe_layer, const RoutingChoice& c);
  void substitute(MoeLayerId moe_layer, const RoutingChoice& c, int32_t kept);

  LossyOptions options_;
  policy::MoeShape shape_;
  GatingFunc gating_;
  Resident resident_;
  std::vector<float> probs_;  // [n_expert]
  std::atomic<int64_t> choices_{0}, dropped_{0}, substituted_{0}, unsubstituted_{0};
};

}  // namespace moescope::offload
