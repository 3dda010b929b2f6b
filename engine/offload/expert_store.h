#pragma once
// The offloading expert store: routed experts live in a slow tier (the GGUF file, or an expert
// pack) and are copied into a fixed-size arena on demand; everything else stays resident.
//
// Decisions and physics are split. A policy::CacheSimulator is the decision core: every MoE step
// (a layer for one decode token, or for a prefill chunk) is fed to it as it happens, with the
// same stream order, policy and prefetcher objects the replay uses, so decisions() equals a
// replay of the recorded stream. The store mirrors its decisions physically: logically resident
// experts own arena buffers, a loader thread fills them (demand before prefetch, paced to the
// emulated link), and acquire() blocks only until its expert is in memory — that wait is the
// measured stall. Experts a step needs but the policy does not keep (bypasses, or experts evicted
// by their own step) pass through a few scratch buffers, loaded in the order the MoE block uses
// them. Buffers are never reused while a load writes them or while an expert is acquired.
//
// Wiring: the store is both the model's ExpertProvider and its MoeObserver (the routing events
// give it token order and top-k order); attach() installs it and forwards the events to a
// downstream observer the caller names. The store refers to the model's file and tensor infos and
// must not outlive the model.
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
// Also fed from the same steps: the shadow policies of config.compare (policy::ShadowSet), and
// the router probes prefetchers ask for (attach() gives the store a RouterProbe of the model). With
// config.lossy the store is the model's RoutingOverride too: substitution asks its residency.
#include <array>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "engine/model/expert_provider.h"
#include "engine/model/hparams.h"
#include "engine/model/moe_observer.h"
#include "engine/offload/expert_arena.h"
#include "engine/offload/expert_layout.h"
#include "engine/offload/expert_source.h"
#include "engine/offload/link_pacer.h"
#include "engine/offload/lossy_gating.h"
#include "engine/offload/offload_config.h"
#include "engine/policy/shadow_set.h"
#include "engine/policy/simulator.h"

namespace moescope {
class Model;
class RouterProbe;
}  // namespace moescope

namespace moescope::offload {

// What the store did physically (wall clock), beyond the policy's counters.
struct StoreStats {
  int64_t loads_started = 0;    // loads put on the (emulated) link
  int64_t loads = 0;            // loads completed into the arena
  int64_t link_bytes = 0;       // bytes read from the slow tier (compressed for a pack)
  int64_t raw_bytes = 0;        // bytes written into the arena
  int64_t load_ns = 0;          // start to ready, summed over loads
  int64_t pace_ns = 0;          // of which waiting for the emulated link
  int64_t decompress_ns = 0;    // of which decompressing
  int64_t stall_ns = 0;         // compute waited in acquire()
  int64_t stalls = 0;           // acquires that waited
  int64_t late_prefetches = 0;  // acquires that waited for an expert a prefetch was loading
  int64_t discarded_loads = 0;  // loads finished after their expert had been evicted
  // Loads the policy decided (misses, prefetches) that the store served from a copy it still
  // had: the policy evicted the expert earlier in the same step, or while its load was landing.
  int64_t saved_loads = 0;
  // Hits whose copy the step had to drop for lack of scratch buffers, so loaded again.
  int64_t reloads = 0;
  int32_t buffers = 0;  // arena buffers: budget slots + scratch
  int32_t scratch_buffers = 0;
  uint64_t buffer_bytes = 0;  // bytes per buffer
  int32_t max_buffers_in_use = 0;
};

enum class LoadKind : uint8_t { kDemand, kPrefetch, kScratch };

struct LoadRecord {
  LayerId layer;  // model block
  ExpertId expert;
  LoadKind kind;  // what queued it (a prefetch promoted by its step still says kPrefetch)
  int64_t queued_ns, start_ns, end_ns;  // since the store was created
  bool discarded = false;
};

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
  enum class State : uint8_t { kAbsent, kQueued, kLoading, kReady, kFailed };
  // Resident: owned by the policy's cache. Scratch: needed by the running step only.
  // Detached: evicted while acquired; freed at release.
  enum class Role : uint8_t { kNone, kResident, kScratch, kDetached };
  enum JobClass : uint8_t { kUrgent = 0, kDemandJob = 1, kPrefetchJob = 2 };

  struct Entry {
    State state = State::kAbsent;
    Role role = Role::kNone;
    int32_t buffer = -1;
    int32_t in_use = 0;
    bool discard = false;  // loading, but no longer wanted: free the buffer when it lands
    bool requeue = false;  // ... and queue it again as scratch afterwards
    bool in_queue = false;
    bool by_prefetch = false;  // the load in progress / done was a prefetch not yet used
    LoadKind kind = LoadKind::kDemand;
    uint8_t job_class = kDemandJob;
    int64_t job_order = 0;
    uint64_t job_seq = 0;
    int64_t queued_ns = 0;
    int32_t step_slot = -1;  // index in the running step's use order, -1 if not in it
    std::string error;
  };

  // The running step, as the MoE block announced it.
  struct Step {
    bool active = false;
    int32_t moe_layer = 0;
    int32_t first_token = 0;
    int32_t n_tokens = 0;
    policy::Phase phase = policy::Phase::kDecode;
    std::vector<int64_t> keys;  // use order (the MoE block's acquire order)
  };

  // Routing of one token at one layer, copied out of the observer callback.
  struct TokenRouting {
    int32_t pos = 0;
    std::vector<ExpertId> experts;
    std::vector<float> weights;
    std::vector<float> probs;  // [n_expert] or empty
  };

  class Listener;

  // store_reconcile.cpp: the step and how physical state follows the decisions.
  void begin_step(int32_t moe_layer, std::span<const ExpertId> use_order);
  void end_previous_step();
  void reconcile();
  void make_resident(int64_t key, bool prefetch);
  void drop(int64_t key);
  void queue_job(int64_t key, LoadKind kind, uint8_t job_class, int64_t order);
  void free_buffer(Entry& e);
  void set_role(Entry& e, Role role);
  bool has_data(const Entry& e) const {
    return e.state == State::kReady || (e.state == State::kLoading && !e.discard);
  }

  // store_loader.cpp: the loader thread.
  void loader_main();
  int64_t pick_job();  // -1 if nothing can start now
  void finish_load(int64_t key, const std::string& error, const ReadCost& cost, int64_t start_ns,
                   int64_t pace_ns);
  int64_t now_ns() const;

  void book_stall(int64_t ns);
  void feed_router_probes(int32_t moe_layer, int32_t pos, std::span<const float> hidden);

  ExpertLayout layout_;
  OffloadConfig config_;
  GatingFunc gating_;
  std::unique_ptr<ExpertSource> source_;
  LinkPacer pacer_;
  std::unique_ptr<policy::CacheSimulator> sim_;
  std::unique_ptr<policy::ShadowSet> shadows_;  // null without shadows or recording
  bool shadows_open_ = false;                   // shadows are inside a step
  std::unique_ptr<LossyGating> lossy_;
  std::unique_ptr<RouterProbe> probe_;
  std::optional<policy::RouterProbeRequest> driving_probe_;  // the driving prefetcher's
  std::vector<policy::RouterProbeRequest> probes_;  // the prefetchers' (driving, shadows')
  std::vector<ExpertId> predicted_;
  std::unique_ptr<Listener> listener_;
  std::unique_ptr<ExpertArena> arena_;
  int32_t scratch_ = 0;
  MoeObserver* next_ = nullptr;
  std::optional<policy::Phase> phase_override_;
  LinkPacer::Clock::time_point epoch_;

  // Observer state (forward thread only).
  int forward_tokens_ = 0;
  std::vector<std::vector<TokenRouting>> pending_;  // [n_model_layers] routing since last step
  int32_t synthetic_token_ = -1;                    // token counter when no routing events arrive
  int32_t last_hint_layer_ = -1;
  int32_t forward_first_pos_ = 0;  // KV position of the forward call's first token
  int32_t stream_base_ = 0;        // its stream token
  int32_t next_stream_token_ = 0;

  mutable std::mutex mu_;
  std::condition_variable loader_cv_;  // work for the loader: a job, a free buffer, stop
  std::condition_variable ready_cv_;   // a load finished
  bool stop_ = false;
  std::vector<Entry> entries_;  // [total experts], dense key order
  std::vector<int64_t> queue_;  // keys with queued jobs (lazily cleaned)
  uint64_t job_seq_ = 0;
  int64_t prefetch_order_ = 0;
  int32_t scratch_held_ = 0;  // scratch entries holding a buffer
  int32_t loading_ = 0;       // loads in progress (0 or 1)
  Step step_;
  StoreStats stats_;
  std::vector<LoadRecord> log_;
  // Measured stall, laid out like the policy's report: [phase], [phase][moe layer], [token].
  std::array<int64_t, 2> stall_phase_{};
  std::array<std::vector<int64_t>, 2> stall_layer_;
  std::vector<int64_t> stall_token_;
  // The running step's clock: compute = end - start - stall waited during the step.
  LinkPacer::Clock::time_point step_start_;
  int64_t step_stall_ns_ = 0;
  std::vector<int64_t> compute_ns_;  // [tokens][MoE layers]

  std::thread loader_;
};

}  // namespace moescope::offload
