#pragma once
// The expert store's physical side: routed experts live in a slow tier (the GGUF file, or an
// expert pack) and are copied into a fixed-size arena. The loader mirrors the cache decisions
// (cache_decisions.h) step by step: logically resident experts own arena buffers, one loader
// thread fills them (demand before prefetch, paced to the emulated link), and acquire() blocks
// only until its expert is in memory — that wait is the measured stall. Experts a step needs but
// the policy does not keep (bypasses, or experts evicted by their own step) pass through a few
// scratch buffers, loaded in the order the MoE block uses them. Buffers are never reused while a
// load writes them or while an expert is acquired.
//
// It also keeps the step's wall clock: the stall measured per phase, MoE layer and token, and
// the layer's measured compute (wall time from the step's start to its end minus the stall).
//
// Locking: the store's mutex (given at construction) guards the loader and the decisions
// together, so that a step's decisions and their mirror are one critical section. Every member
// function except the constructor and destructor expects it held; acquire and wait_idle wait on
// it.
#include <array>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "engine/model/expert_provider.h"
#include "engine/offload/cache_decisions.h"
#include "engine/offload/expert_arena.h"
#include "engine/offload/expert_layout.h"
#include "engine/offload/expert_source.h"
#include "engine/offload/link_pacer.h"
#include "engine/offload/offload_config.h"

namespace moescope::offload {

// What the store did physically (wall clock), beyond the policy's counters.
struct StoreStats {
  int64_t loads_started = 0;    // loads put on the (emulated) link
  int64_t loads = 0;            // loads completed into the arena
  int64_t link_bytes = 0;       // bytes read from the slow tier (compressed for a pack)
  int64_t raw_bytes = 0;        // bytes written into the arena
  int64_t load_ns = 0;          // start (on the link, or of the read if earlier) to ready,
                                // summed over loads
  int64_t read_ns = 0;          // of which reading the slow tier (link_bytes / read_ns: the
                                // device's measured bandwidth with SlowTierRead::kDirect)
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
  // Since the store was created: queued, on the emulated link (once queued and the link was
  // free), and usable (its deadline on the link, or when it landed if the read was slower).
  int64_t queued_ns, start_ns, end_ns;
  bool discarded = false;
};

class ExpertLoader {
 public:
  // `capacity` sizes the arena (its budget buffers plus config.scratch_buffers); times are
  // measured from `epoch`. Throws moescope::Error for a bad scratch count or pack.
  ExpertLoader(const ExpertLayout& layout, const OffloadConfig& config,
               const policy::CacheCapacity& capacity, std::mutex& mu,
               LinkPacer::Clock::time_point epoch);
  ~ExpertLoader();  // stops the thread (takes the lock)
  ExpertLoader(const ExpertLoader&) = delete;
  ExpertLoader& operator=(const ExpertLoader&) = delete;

  // The step the MoE block announced: its experts in use order (the acquire order).
  void begin_step(MoeLayerId moe_layer, int32_t first_token, int32_t n_tokens, policy::Phase phase,
                  std::span<const ExpertId> use_order);
  // Makes the physical state follow what the decisions changed during the step
  // (loader_mirror.cpp).
  void mirror(const CacheDecisions& decisions);
  // The step's compute clock starts (after its decisions).
  void start_clock();
  bool step_active() const { return step_.active; }
  // The running step's measured compute time (booked in compute_times()), or -1 unless
  // config.measured_compute.
  int64_t step_compute_ns();
  // The step has run: its scratch experts go.
  void end_step();

  // Of the running step's experts not yet run (`pending`, in the block's order), the index of the
  // first one whose weights are in memory (or whose load failed, for acquire to report); waits
  // while none is and books that wait as stall. Experts not in the step: 0 (acquire reports it).
  size_t next_ready(std::unique_lock<std::mutex>& lock, MoeLayerId m,
                    std::span<const ExpertId> pending);
  // next_ready, then every expert of `pending` usable now moved to its front (stable); returns
  // how many (at least 1 unless pending is empty or the store stops).
  size_t take_ready(std::unique_lock<std::mutex>& lock, MoeLayerId m, std::span<ExpertId> pending);
  // The forward pass's use of one expert of the running step (layer m, expert checked by the
  // caller; `block` names it in errors). acquire waits for the expert and books the stall.
  ExpertWeights acquire(std::unique_lock<std::mutex>& lock, MoeLayerId m, ExpertId expert,
                        LayerId block);
  void release(MoeLayerId m, ExpertId expert, LayerId block);
  // Until no load is running and none queued could start (a scratch load waiting for its step's
  // earlier experts to be released does not count).
  void wait_idle(std::unique_lock<std::mutex>& lock);

  StoreStats stats() const;
  const std::vector<LoadRecord>& load_log() const { return log_; }
  const std::vector<int64_t>& compute_times() const { return compute_ns_; }
  // The policy's report with the measured stall (and end_ns = now).
  policy::CacheReport measured(policy::CacheReport decided) const;
  int64_t now_ns() const;
  int64_t since_epoch(LinkPacer::Clock::time_point t) const;

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
    // A landed load is usable from its deadline on the emulated link: the forward pass waits
    // for that time itself rather than for the loader to wake up and tell it.
    LinkPacer::Clock::time_point ready_at{};
    int32_t step_slot = -1;  // index in the running step's use order, -1 if not in it
    std::string error;
  };

  // The running step, as the MoE block announced it.
  struct Step {
    bool active = false;
    MoeLayerId moe_layer;
    int32_t first_token = 0;
    int32_t n_tokens = 0;
    policy::Phase phase = policy::Phase::kDecode;
    std::vector<int64_t> keys;  // use order (the MoE block's acquire order)
  };

  // loader_mirror.cpp: how physical state follows the decisions.
  void make_resident(int64_t key, bool prefetch);
  void drop(int64_t key);
  // A landed load dropped before its deadline on the link counts as discarded in flight.
  void note_discarded(int64_t key);
  void queue_job(int64_t key, LoadKind kind, uint8_t job_class, int64_t order);
  void free_buffer(Entry& e);
  void set_role(Entry& e, Role role);
  // In memory and past its deadline on the link (or failed, for acquire to report).
  static bool usable(const Entry& e, LinkPacer::Clock::time_point now) {
    return e.state == State::kFailed || (e.state == State::kReady && e.ready_at <= now);
  }
  bool has_data(const Entry& e) const {
    return e.state == State::kReady || (e.state == State::kLoading && !e.discard);
  }

  // expert_loader.cpp: the loader thread.
  void loader_main();
  // The queued job to start next (-1 if none can start now); `step_only`: of the running step's;
  // `demand_only`: no prefetch.
  int64_t pick_job(bool step_only, bool demand_only);
  // Runs the picked load of `key` on this thread (the lock is released while reading) and books
  // it on the link's schedule; it is usable from its deadline there.
  void run_load(std::unique_lock<std::mutex>& lock, int64_t key);
  // The forward pass, waiting, runs the running step's next queued load itself; false if none
  // can start.
  bool help_step_load(std::unique_lock<std::mutex>& lock);
  void finish_load(int64_t key, const std::string& error, const ReadCost& cost, int64_t start_ns,
                   int64_t pace_ns, LinkPacer::Clock::time_point ready_at);
  void book_stall(int64_t ns);
  // Until `due` (a landed load's deadline on the link), or a load lands when the wait is long.
  void wait_until_due(std::unique_lock<std::mutex>& lock, LinkPacer::Clock::time_point due);

  const ExpertLayout& layout_;
  int32_t scratch_ = 0;
  bool record_loads_ = false;
  bool measured_compute_ = false;
  std::unique_ptr<ExpertSource> source_;
  std::mutex source_mu_;  // serialises reads of a source without concurrent_reads()
  LinkPacer pacer_;
  std::unique_ptr<ExpertArena> arena_;
  LinkPacer::Clock::time_point epoch_;

  std::mutex& mu_;
  std::condition_variable loader_cv_;  // work for the loader: a job, a free buffer, stop
  std::condition_variable ready_cv_;   // a load finished
  bool stop_ = false;
  std::vector<Entry> entries_;  // [total experts], dense key order
  std::vector<int64_t> queue_;  // keys with queued jobs (lazily cleaned)
  uint64_t job_seq_ = 0;
  int64_t prefetch_order_ = 0;
  int32_t scratch_held_ = 0;  // scratch entries holding a buffer
  int32_t loading_ = 0;       // loads in progress: at most one on an emulated link, else two
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
