#pragma once
// The expert store's decision core. A policy::CacheSimulator is fed every MoE step (a layer for
// one decode token, or for a prefill chunk) as it happens, with the same stream order, policy and
// prefetcher objects a replay builds, so report() equals a replay of the recorded stream. The
// shadow policies of config.compare (policy::ShadowSet) take the same steps. Prefetchers that ask
// for router probes (Prefetcher::inputs) get the ones the engine computes through supply_probe.
//
// What a step loaded and evicted is collected in changes(), for the loader to mirror physically
// (expert_loader.h). Not synchronised: the store's lock guards it together with the loader.
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "engine/offload/offload_config.h"
#include "engine/policy/shadow_set.h"
#include "engine/policy/simulator.h"

namespace moescope::offload {

// What the decision core loaded and evicted during one step, by dense expert key.
class StepChanges final : public policy::CacheListener {
 public:
  explicit StepChanges(const policy::MoeShape& shape);
  void on_load(ExpertKey key, bool prefetch, bool admitted) override;
  void on_evict(ExpertKey key) override;
  void clear();

  std::vector<int64_t> touched;                     // keys loaded or evicted, first touch first
  std::vector<uint8_t> seen, prefetched, demanded;  // [total experts]

 private:
  int64_t touch(ExpertKey key);
  const policy::MoeShape& shape_;
};

class CacheDecisions {
 public:
  // Throws moescope::Error for a bad config (policy, prefetcher, capacity).
  CacheDecisions(const policy::MoeShape& shape, const OffloadConfig& config);
  ~CacheDecisions();
  CacheDecisions(const CacheDecisions&) = delete;
  CacheDecisions& operator=(const CacheDecisions&) = delete;

  // One step: the policy decides (begin_step clears changes() first), the loader mirrors the
  // changes, then the shadows take the step; end_step books its compute time in all of them.
  void begin_step(const policy::StepInput& in);
  void begin_shadow_step(const policy::StepInput& in);
  bool in_step() const { return sim_->in_step() || shadows_open_; }
  void end_step(int64_t compute_ns);
  const StepChanges& changes() const { return *changes_; }
  void clear_changes() { changes_->clear(); }
  bool resident(ExpertKey key) const { return sim_->resident(key); }

  // The distinct router probes the prefetchers (driving, then shadows') ask for.
  const std::vector<policy::RouterProbeRequest>& router_probes() const { return probes_; }
  // The engine's probe for target: to every prefetcher that asked for it.
  void supply_probe(const policy::RouterProbeRequest& probe, policy::PrefetchTarget target,
                    std::span<const ExpertId> experts);

  const policy::CacheCapacity& capacity() const { return sim_->capacity(); }
  policy::CacheReport report() const { return sim_->report(); }
  policy::Prefetcher* prefetcher() { return sim_->prefetcher(); }
  policy::PredictionInputs prediction_inputs() const { return {driving_probe_}; }
  // The shadows: counters as they ran (oracles evaluated now, second pass).
  std::vector<policy::ShadowResult> shadow_results() const;
  // The steps so far as an access stream (oracle shadows or config.record_stream; else empty).
  policy::AccessStream recorded_stream() const;

 private:
  std::unique_ptr<policy::CacheSimulator> sim_;
  std::unique_ptr<StepChanges> changes_;
  std::unique_ptr<policy::ShadowSet> shadows_;  // null without shadows or recording
  bool shadows_open_ = false;                   // shadows are inside a step
  std::optional<policy::RouterProbeRequest> driving_probe_;
  std::vector<policy::RouterProbeRequest> probes_;
};

}  // namespace moescope::offload
