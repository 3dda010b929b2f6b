#pragma once
// Prefetchers predict the experts of a later layer before it runs. The simulator (and the real
// cache) tells a prefetcher every routing decision as it happens (observe) and asks it, after
// each decode layer (t, l), for the experts of the target d layers ahead (predict); the target
// wraps into the next token after the last layer. Predictions are compared with the routed set R
// when the target runs: precision |P & R| / |P|, recall |P & R| / |R|.
//
// The prediction seam: a prefetcher may need more than the routing it observes. It declares
// those inputs (inputs()); the engine computes them for any prefetcher that asks and hands them
// on (supply_probe), and a replay reads the ones a run recorded (set_probe_source). So a new
// predictor plugs in here without the expert store, the recorder or the GUI knowing its type.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/common/ids.h"
#include "engine/policy/moe_shape.h"
#include "engine/policy/routing_trace.h"

namespace moescope::policy {

struct PrefetchTarget {
  TokenPos token;
  MoeLayerId layer;
  auto operator<=>(const PrefetchTarget&) const = default;
};

// A router probe: layer l+d's router applied to the hidden state after layer l's attention (in
// decode, for targets within the token), its best k' experts, most likely first (k' 0: the
// target layer's top-k). Only the engine can compute one (engine/model/router_probe.h).
struct RouterProbeRequest {
  int32_t distance = 1;
  int32_t k_prime = 0;
  auto operator<=>(const RouterProbeRequest&) const = default;
};

// What a prefetcher needs besides the routing it observes.
struct PredictionInputs {
  // At most one probe per prefetcher: a trace records one set of probes per run.
  std::optional<RouterProbeRequest> router_probe;
};

// Probes asked for at predict time, k = the request's k' resolved for the target: recorded ones
// (a replay of a run, the oracles' second pass) or a stand-in gate (tests).
using ProbeSource = std::function<void(PrefetchTarget, int32_t k, std::vector<ExpertId>&)>;

class Prefetcher {
 public:
  virtual ~Prefetcher() = default;
  virtual std::string name() const = 0;
  // Layers ahead that predictions are for (d >= 1).
  virtual int32_t distance() const = 0;
  virtual void reset(const MoeShape& shape) = 0;
  // Token t's routing at layer l is known. Layers of a token arrive in order, tokens in order.
  virtual void observe(TokenPos t, MoeLayerId l, const TokenLayerRouting& r) = 0;
  // Experts expected at target, most likely first, at most the prefetcher's k'.
  virtual void predict(PrefetchTarget target, std::vector<ExpertId>& out) = 0;

  // The prediction seam (the defaults: nothing needed, nothing taken).
  virtual PredictionInputs inputs() const { return {}; }
  // The engine's probe for target (inputs().router_probe), before target is predicted.
  virtual void supply_probe(PrefetchTarget /*target*/, std::span<const ExpertId> /*experts*/) {}
  // Alternatively a source asked at predict time for targets nothing was supplied for.
  virtual void set_probe_source(ProbeSource /*source*/) {}

  // The cache issues only the predictions that pay (prefetch_gate.h); spelled "<spec>+cost".
  bool cost_gated() const { return cost_gated_; }
  void set_cost_gated(bool on) { cost_gated_ = on; }

 private:
  bool cost_gated_ = false;
};

// k_prime = 0 means the target layer's top-k.
std::unique_ptr<Prefetcher> make_no_prefetch();
// P(t+1, l) = R(t, l).
std::unique_ptr<Prefetcher> make_same_as_previous(int32_t distance);
// Affinity counts T_l[i -> j] of "i at layer l, j at layer l+1" (the last layer links to the
// next token's first); predicts top-k' of the summed rows, chained through the tables for d > 1.
// Learned online, or frozen after fitting on `fit` when it is given.
std::unique_ptr<Prefetcher> make_affinity(int32_t k_prime, int32_t distance,
                                          const RoutingTrace* fit);
// Top-k' experts of the target layer over the last `window` tokens.
std::unique_ptr<Prefetcher> make_frequency(int32_t k_prime, int32_t window, int32_t distance);
// Per-layer tables fitted on recorded traces: the token's path so far (top-1 experts of the two
// layers before the target's source) predicts the target; backs off to first-order affinity and
// then to the layer's frequency when a path was seen too rarely.
std::unique_ptr<Prefetcher> make_path_predictor(int32_t k_prime, int32_t distance,
                                                const RoutingTrace& fit);

// next-gate(d, k'): asks the engine for the router probe (d, k') and predicts what it says; the
// prefetcher only hands it on.
class NextGatePrefetcher : public Prefetcher {
 public:
  NextGatePrefetcher(int32_t distance, int32_t k_prime);

  std::string name() const override;
  int32_t distance() const override { return probe_.distance; }
  void reset(const MoeShape& shape) override;
  void observe(TokenPos, MoeLayerId, const TokenLayerRouting&) override {}
  void predict(PrefetchTarget target, std::vector<ExpertId>& out) override;

  PredictionInputs inputs() const override { return {probe_}; }
  // Kept until target is predicted.
  void supply_probe(PrefetchTarget target, std::span<const ExpertId> experts) override;
  void set_probe_source(ProbeSource source) override { source_ = std::move(source); }

 private:
  RouterProbeRequest probe_;
  MoeShape shape_;
  std::map<PrefetchTarget, std::vector<ExpertId>> supplied_;
  ProbeSource source_;
};

struct PrefetcherInputs {
  const RoutingTrace* fit = nullptr;  // for affinity-fit and path
};
// "none", "same-prev[:d]", "affinity[:k'[:d]]", "affinity-fit[:k'[:d]]", "freq[:k'[:W[:d]]]",
// "path[:k'[:d]]", "next-gate[:d[:k']]" (docs/policies-cli.md), each optionally followed by
// "+cost": gated by the prefetch cost model. Throws moescope::Error.
std::unique_ptr<Prefetcher> make_prefetcher(std::string_view spec, const PrefetcherInputs& inputs);
// What the prefetcher a spec names needs from the engine, without a trace to fit on (a fitted
// prefetcher fits when it is reset, not when built, and asks for no probes). Throws like
// make_prefetcher for a bad spelling.
PredictionInputs prediction_inputs(std::string_view spec);

// The position d layers after (t, l), wrapping into later tokens.
PrefetchTarget advance(TokenPos t, MoeLayerId l, int32_t d, int32_t n_layers);

}  // namespace moescope::policy
