#pragma once
// The offloading expert store: routed experts live in a slow tier (the GGUF file, or an expert
// pack) and are copied into a fixed-size arena on demand; everything else stays resident.
//
// Three parts, one job each. CacheDecisions (cache_decisions.h) is the decision core: a
// policy::CacheSimulator fed every MoE step as it happens, so decisions() equals a replay of the
// recorded stream, plus the shadow policies and the router probes prefetchers ask for.
// ExpertLoader (expert_loader.h) mirrors those decisions physically: arena buffers, the loader
// thread, slow-tier reads paced to the emulated link, the measured stall. ExpertStore itself is
// the adapter to the forward pass: the model's ExpertProvider and MoeObserver, it turns routing
// events and hint_upcoming into steps (store_reconcile.cpp), computes the router probes, and
// answers acquire() through the loader. One mutex guards the decisions and the loader together,
// so a step's decisions and their mirror are one critical section.
//
// Wiring: attach() installs the store as the model's provider and observer (the routing events
// give it token order and top-k order) and forwards the events to a downstream observer the
// caller names. The store refers to the model's file and tensor infos and must not outlive the
// model.
//
// Tokens are numbered in stream order (forward calls one after another), not by KV position, so
// runs that restart the context (benchmark repetitions, perplexity chunks) stay one stream, the
// way RoutingTraceRecorder numbers them.
//
// Time: a step's decisions are made when the MoE block announces it (hint_upcoming); its
// modelled time is booked when it ends (the next step, or the end of the forward call), with the
// layer's measured compute: the wall time from the step's start to its end minus the measured
// stall. compute_times() gives those values laid out as a RoutingTrace's compute_ns.
//
// With config.lossy the store is the model's RoutingOverride too: substitution asks its residency.
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "engine/model/expert_provider.h"
#include "engine/model/hparams.h"
#include "engine/model/moe_observer.h"
#include "engine/offload/cache_decisions.h"
#include "engine/offload/expert_layout.h"
#include "engine/offload/expert_loader.h"
#include "engine/offload/lossy_gating.h"
#include "engine/offload/offload_config.h"

namespace moescope {
class Model;
class RouterProbe;
}  // namespace moescope

namespace moescope::offload {

class ExpertStore final : public ExpertProvider, public MoeObserver {
 public:
  // top_k: experts a token selects (the policy's nominal k); gating: how router logits become
  // probabilities (for config.router_probs). Throws moescope::Error for a bad config (policy,
  // prefetcher, capacity) or pack.
  ExpertStore(const gguf::GgufFile& file, const std::vector<LayerExpertTensors>& layers,
              int32_t top_k, const OffloadConfig& config,
              GatingFunc gating = GatingFunc::Softmax);
  ~ExpertStore() override;
  ExpertStore(const ExpertStore&) = delete;
  ExpertStore& operator=(const ExpertStore&) = delete;

  // Creates a store for `model` and installs it as the model's expert provider and observer;
  // routing events go on to `downstream` (the observer the caller had installed, or null).
  // detach() restores the mapped experts and `downstream`.
  static std::unique_ptr<ExpertStore> attach(Model& model, const OffloadConfig& config,
                                             MoeObserver* downstream = nullptr);
  void detach(Model& model);
  // Routing events are passed on to this observer (may be null).
  void set_next_observer(MoeObserver* next) { next_ = next; }
  MoeObserver* next_observer() const { return next_; }
  // Steps of a forward of one token are decode, of several tokens prefill, unless overridden.
  void set_phase_override(std::optional<policy::Phase> phase) { phase_override_ = phase; }

  // ExpertProvider (called on the forward pass's thread).
  void hint_upcoming(LayerId layer, std::span<const ExpertId> experts) override;
  size_t next_to_run(LayerId layer, std::span<const ExpertId> pending) override;
  size_t take_ready(LayerId layer, std::span<ExpertId> pending) override;
  ExpertWeights acquire(LayerId layer, ExpertId expert) override;
  void release(LayerId layer, ExpertId expert) override;

  // MoeObserver.
  void on_forward_begin(TokenPos first, int n_tokens) override;
  void on_routing(const MoeRoutingEvent& event) override;
  void on_forward_end() override;

  const ExpertLayout& layout() const { return layout_; }
  const policy::MoeShape& shape() const { return layout_.shape(); }
  policy::CacheCapacity capacity() const;
  std::string policy_name() const;
  // The policy's counters per phase, MoE layer and token, in modelled time: equal to a replay of
  // the same access stream with the same policy, prefetcher, capacity and link.
  policy::CacheReport decisions() const;
  // The same counters with stall_ns replaced by the measured wall-clock stall (and end_ns by the
  // wall time since creation).
  policy::CacheReport measured() const;
  StoreStats stats() const;
  std::vector<LoadRecord> load_log() const;
  // The prefetcher object, e.g. to give it a probe source. Call between forwards only.
  policy::Prefetcher* prefetcher();
  // What the driving prefetcher needs from the engine (a recorder records its router probes).
  policy::PredictionInputs prediction_inputs() const;
  // Blocks until no load is running and none queued could start (a scratch load waiting for its
  // step's earlier experts to be released does not count).
  void wait_idle();

  // Measured layer compute, [tokens][MoE layers] like RoutingTrace::compute_ns (a prefill chunk
  // booked on its first token; steps not yet ended are 0). Empty unless config.measured_compute.
  std::vector<int64_t> compute_times() const;
  // The shadows of config.compare: counters as they ran (oracles evaluated now, second pass).
  std::vector<policy::ShadowResult> shadow_results() const;
  // The steps so far as an access stream (oracle shadows or config.record_stream; else empty).
  policy::AccessStream recorded_stream() const;
  // Router probes need the engine: the probe applies later layers' routers to the hidden state
  // each routing event carries. attach() installs one when a prefetcher asks for probes.
  void set_router_probe(std::unique_ptr<RouterProbe> probe);
  // The lossy gating variants (null when the run is exact), for the model's routing override.
  LossyGating* lossy_gating() { return lossy_.get(); }
  LossyCounters lossy_counters() const;

 private:
  // Routing of one token at one layer, copied out of the observer callback.
  struct TokenRouting {
    int32_t pos = 0;
    std::vector<ExpertId> experts;
    std::vector<float> weights;
    std::vector<float> probs;  // [n_expert] or empty
  };

  // store_reconcile.cpp: the step, the decisions and their mirror.
  void end_previous_step();
  void feed_router_probes(MoeLayerId moe_layer, int32_t pos, std::span<const float> hidden);

  ExpertLayout layout_;
  OffloadConfig config_;
  GatingFunc gating_;
  LinkPacer::Clock::time_point epoch_;
  mutable std::mutex mu_;  // guards decisions_ and loader_
  std::unique_ptr<CacheDecisions> decisions_;
  std::unique_ptr<ExpertLoader> loader_;
  std::unique_ptr<LossyGating> lossy_;
  std::unique_ptr<RouterProbe> probe_;
  std::vector<ExpertId> predicted_;
  MoeObserver* next_ = nullptr;
  std::optional<policy::Phase> phase_override_;

  // Observer state (forward thread only).
  int forward_tokens_ = 0;
  std::vector<std::vector<TokenRouting>> pending_;  // [n_model_layers] routing since last step
  int32_t synthetic_token_ = -1;                    // token counter when no routing events arrive
  int32_t last_hint_layer_ = -1;
  int32_t forward_first_pos_ = 0;  // KV position of the forward call's first token
  int32_t stream_base_ = 0;        // its stream token
  int32_t next_stream_token_ = 0;
};

}  // namespace moescope::offload
