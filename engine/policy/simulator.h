#pragma once
// The cache simulator. It is also the decision core of the real expert cache: the real cache
// feeds it the same steps as they happen and mirrors its loads and evictions (CacheListener), so
// replay of a recorded stream and the live run produce equal CacheReports by construction.
//
// One step (a layer for one decode token, or for one prefill chunk):
//   1. hints: policy.on_step, policy.on_router per token
//   2. predictions made earlier for this (token, layer) are scored against the routed set
//   3. demand accesses in use order: hit, or miss -> admit / evict / insert, demand load queued
//      (never evicting an expert the step has yet to access: it would only come back as a second
//      miss; when nothing else can leave, the miss is not admitted)
//   4. prefetcher.observe; in decode, predict the layer d ahead and queue prefetch loads (never
//      evicting the running layer's experts, the experts of earlier predictions whose targets
//      come sooner, or other predicted experts), in the prediction's rank order; a cost-gated
//      prefetcher's loads only when the link has time for them and they pay (prefetch_gate.h)
//   5. modelled time: compute starts when the step's experts are loaded (stall), runs for the
//      layer's compute time, and the loader keeps working meanwhile.
// Steps 1-4 are begin_step(), step 5 is end_step(compute_ns): a live cache learns how long the
// layer computed only after it ran, and still decides exactly as a replay of the recorded stream
// with those compute times does.
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "engine/policy/access_stream.h"
#include "engine/policy/allocators.h"
#include "engine/policy/cache_counters.h"
#include "engine/policy/capacity.h"
#include "engine/policy/link_model.h"
#include "engine/policy/loader_model.h"
#include "engine/policy/policy.h"
#include "engine/policy/prefetch_gate.h"
#include "engine/policy/prefetcher.h"

namespace moescope::policy {

struct TimingModel {
  LinkModel link;  // "none": loads take no time
  // Compute of one MoE layer when the step does not carry a measured time. Placeholders of the
  // right order for a small MoE on a desktop CPU; pass measured values for real answers.
  int64_t decode_layer_ns = 1'000'000;
  int64_t prefill_layer_ns_per_token = 200'000;
};

struct StepInput {
  TokenPos first_token;
  int32_t n_tokens = 1;
  MoeLayerId layer;
  Phase phase = Phase::kDecode;
  std::span<const ExpertId> experts;           // distinct experts the step uses, in use order
  std::span<const TokenLayerRouting> routing;  // [n_tokens] each token's routing at this layer
  int64_t compute_ns = -1;                     // measured layer compute; -1 = timing model
                                               // (read by step() only)
};

// The real cache implements this to perform what the simulator decides.
class CacheListener {
 public:
  virtual ~CacheListener() = default;
  virtual void on_load(ExpertKey key, bool prefetch, bool admitted) = 0;
  virtual void on_evict(ExpertKey key) = 0;
};

class CacheSimulator {
 public:
  CacheSimulator(MoeShape shape, CacheCapacity capacity, std::unique_ptr<CachePolicy> policy,
                 std::unique_ptr<Prefetcher> prefetcher = nullptr, TimingModel timing = {},
                 std::string policy_name = "", std::string prefetcher_name = "");

  void set_listener(CacheListener* listener) { listener_ = listener; }
  // One step in two halves. begin_step makes every decision (hits, misses, evictions,
  // prefetches); end_step advances modelled time by the step's stall and its compute time
  // (-1 = the timing model). The spans of `in` are read during begin_step only.
  void begin_step(const StepInput& in);
  void end_step(int64_t compute_ns);
  void step(const StepInput& in) {
    begin_step(in);
    end_step(in.compute_ns);
  }
  bool in_step() const { return open_; }

  bool resident(ExpertKey k) const { return entries_[size_t(shape_.key_index(k))].resident; }
  const CacheReport& report() const { return report_; }
  const MoeShape& shape() const { return shape_; }
  const CacheCapacity& capacity() const { return capacity_; }
  int64_t now_ns() const { return now_; }
  Prefetcher* prefetcher() { return prefetcher_.get(); }

 private:
  static constexpr int64_t kPending = -1;  // load queued, not yet on the link
  struct Entry {
    bool resident = false;
    bool prefetched_unused = false;
    uint64_t load_id = 0;
    int64_t ready_ns = 0;
  };
  struct Prediction {
    PrefetchTarget target;
    std::vector<ExpertId> experts;
    // [experts] 1 where the expert was not resident when predicted: the ones a prefetch bets on,
    // so the only ones the gate scores (those the cache holds already are routed more often).
    std::vector<uint8_t> candidate;
  };

  bool try_insert(ExpertKey key, std::span<const ExpertKey> pinned, bool prefetch);
  void evict(ExpertKey victim);
  void issue_prefetches(const StepInput& in);
  // Whether a cost-gated prefetch of `key` (rank `rank` of its prediction) is issued; `stop` is
  // set when the link has no time for it (nor for anything ranked below it).
  bool gate_allows(ExpertKey key, int32_t rank, int64_t order, bool& stop);
  int64_t position() const { return token_ * shape_.n_layers() + layer_.value; }
  void score_predictions(const StepInput& in);
  int64_t completion(uint64_t load_id);
  void take_started();
  uint64_t new_load_id(ExpertKey key);
  void add(int64_t CacheCounters::*field, MoeLayerId layer, int64_t amount);

  MoeShape shape_;
  CacheCapacity capacity_;
  std::unique_ptr<CachePolicy> policy_;
  std::unique_ptr<Prefetcher> prefetcher_;
  std::unique_ptr<PrefetchGate> gate_;  // for a cost-gated prefetcher
  bool evicting_for_prefetch_ = false;
  TimingModel timing_;
  LoaderModel loader_;
  CacheListener* listener_ = nullptr;

  std::vector<Entry> entries_;  // [total experts]
  std::vector<uint64_t> used_;  // [partition] occupied units
  int64_t seq_ = 0;             // demand accesses so far
  int64_t now_ = 0;             // modelled time
  uint64_t load_counter_ = 0;
  int64_t target_order_ = 0;

  // The step being processed.
  bool open_ = false;  // between begin_step and end_step
  Phase phase_ = Phase::kDecode;
  int64_t token_ = 0;
  MoeLayerId layer_;
  int32_t n_tokens_ = 1;
  std::vector<ExpertKey> step_keys_;
  std::vector<ExpertKey> prefetch_pinned_;
  std::vector<uint64_t> waits_;
  std::vector<LoaderModel::Started> started_, step_started_;
  std::vector<Prediction> pending_;
  std::vector<ExpertId> predicted_;

  CacheReport report_;
};

// Feeds a recorded stream through a simulator (compute times from the trace when it has them);
// replay_with_outcomes (step_outcomes.h) with what became of each access.
const CacheReport& replay(const RoutingTrace& trace, const AccessStream& stream,
                          CacheSimulator& sim);

// Everything a replay needs, by name (the CLI's view).
struct ReplaySetup {
  std::string policy = "lru";       // policy spec, docs/policies-cli.md
  std::string prefetcher = "none";  // prefetcher spec
  Budget budget = Budget::slots(0);
  AllocatorKind allocator = AllocatorKind::kUniform;
  TimingModel timing;
  StreamOptions stream;
  // An earlier trace: static-freq counts, fitted prefetchers and trace-based allocators read it.
  // Without it, allocators fit on the replayed trace itself.
  const RoutingTrace* history = nullptr;
};
CacheReport replay(const RoutingTrace& trace, const ReplaySetup& setup);

}  // namespace moescope::policy
