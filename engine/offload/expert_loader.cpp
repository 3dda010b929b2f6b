// The expert loader: the arena, the step's wall clock, the forward pass's acquire/release, and
// the loader thread — one load at a time, the most urgent first (an expert the forward pass is
// waiting for, then the running step's experts in use order, then prefetches in the order of the
// steps that issued them), each paced to the emulated link. A forward pass that waits for its
// step's experts runs the next of their queued loads itself (help_step_load), so a demand miss
// does not wait for the loader thread to be scheduled. On an emulated link either one runs a load
// only while no other is in flight; without a link both may copy at once.
#include "engine/offload/expert_loader.h"

#include <algorithm>
#include <chrono>
#include <optional>
#include <tuple>

#include "engine/common/error.h"
#include "engine/offload/expert_pack.h"

namespace moescope::offload {

namespace {

// How many experts the capacity can hold at once: the arena's budget buffers.
int32_t max_residents(const policy::CacheCapacity& c, const ExpertLayout& layout) {
  const auto total = static_cast<uint64_t>(layout.total_experts());
  uint64_t n = 0;
  if (c.pool == policy::PoolKind::kPerLayer) {
    for (int32_t m = 0; m < layout.n_layers(); ++m) {
      n += uint64_t(std::clamp(c.layer_slots[size_t(m)], 0, layout.n_expert(MoeLayerId(m))));
    }
  } else if (c.in_bytes) {
    n = c.global / layout.min_packed_bytes();
  } else {
    n = c.global;
  }
  return static_cast<int32_t>(std::min(n, total));
}

}  // namespace

ExpertLoader::ExpertLoader(const ExpertLayout& layout, const OffloadConfig& config,
                           const policy::CacheCapacity& capacity, std::mutex& mu,
                           LinkPacer::Clock::time_point epoch)
    : layout_(layout),
      scratch_(config.scratch_buffers),
      record_loads_(config.record_loads),
      measured_compute_(config.measured_compute),
      pacer_(config.link),
      epoch_(epoch),
      mu_(mu) {
  // The fast tier and the slow one.
  const int32_t slots = max_residents(capacity, layout_);
  arena_ = std::make_unique<ExpertArena>(slots + scratch_, layout_.max_packed_bytes());
  if (config.pack.empty()) {
    source_ = std::make_unique<GgufExpertSource>(layout_, config.read);
  } else {
    source_ = std::make_unique<PackExpertSource>(layout_, ExpertPack::open(config.pack, layout_));
  }
  release_mapped_experts(layout_);

  entries_.resize(size_t(layout_.total_experts()));
  for (auto& layers_of_phase : stall_layer_) layers_of_phase.assign(size_t(layout_.n_layers()), 0);
  stats_.buffers = arena_->n_buffers();
  stats_.scratch_buffers = scratch_;
  stats_.buffer_bytes = arena_->buffer_bytes();

  loader_ = std::thread(&ExpertLoader::loader_main, this);
}

ExpertLoader::~ExpertLoader() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  loader_cv_.notify_all();
  ready_cv_.notify_all();
  loader_.join();
}

// ---- the step ---------------------------------------------------------------------------------

void ExpertLoader::begin_step(MoeLayerId moe_layer, int32_t first_token, int32_t n_tokens,
                              policy::Phase phase, std::span<const ExpertId> use_order) {
  step_.active = true;
  step_.moe_layer = moe_layer;
  step_.first_token = first_token;
  step_.n_tokens = n_tokens;
  step_.phase = phase;
  step_.keys.clear();
  for (size_t i = 0; i < use_order.size(); ++i) {
    const int64_t key = layout_.key_index({moe_layer, use_order[i]});
    step_.keys.push_back(key);
    entries_[size_t(key)].step_slot = int32_t(i);
  }
  ++prefetch_order_;
}

void ExpertLoader::start_clock() {
  step_stall_ns_ = 0;
  step_start_ = LinkPacer::Clock::now();
}

int64_t ExpertLoader::step_compute_ns() {
  if (!measured_compute_) return -1;
  // The layer has run: its compute time is the step's wall time less what it waited.
  const int64_t wall =
      std::chrono::duration_cast<std::chrono::nanoseconds>(LinkPacer::Clock::now() - step_start_)
          .count();
  const int64_t compute = std::max<int64_t>(0, wall - step_stall_ns_);
  const size_t L = size_t(layout_.n_layers());
  const size_t end = (size_t(step_.first_token) + size_t(step_.n_tokens)) * L;
  if (compute_ns_.size() < end) compute_ns_.resize(end, 0);
  compute_ns_[size_t(step_.first_token) * L + size_t(step_.moe_layer.value)] = compute;
  return compute;
}

void ExpertLoader::end_step() {
  for (int64_t key : step_.keys) {
    Entry& e = entries_[size_t(key)];
    e.step_slot = -1;
    if (e.role == Role::kScratch) drop(key);
  }
  step_.keys.clear();
  step_.active = false;
}

// ---- the forward pass's use -------------------------------------------------------------------

size_t ExpertLoader::next_ready(std::unique_lock<std::mutex>& lock, MoeLayerId m,
                                std::span<const ExpertId> pending) {
  if (!step_.active || step_.moe_layer != m || pending.empty()) return 0;
  auto entry = [&](size_t i) -> Entry* {
    if (pending[i].value < 0 || pending[i].value >= layout_.n_expert(m)) return nullptr;
    Entry& e = entries_[size_t(layout_.key_index({m, pending[i]}))];
    return e.step_slot >= 0 ? &e : nullptr;
  };
  auto first_ready = [&]() -> std::optional<size_t> {
    const auto now = LinkPacer::Clock::now();
    for (size_t i = 0; i < pending.size(); ++i) {
      const Entry* e = entry(i);
      if (e == nullptr || usable(*e, now)) return i;
    }
    return std::nullopt;
  };
  std::optional<size_t> at = first_ready();
  if (at) return *at;
  // Nothing is in memory: the expert the loader would serve first is the one to wait for, unless
  // another lands before it.
  size_t urgent = 0;
  for (size_t i = 1; i < pending.size(); ++i) {
    if (entry(i)->step_slot < entry(urgent)->step_slot) urgent = i;
  }
  Entry& u = *entry(urgent);
  if (u.state == State::kQueued && u.job_class != kUrgent) {
    u.job_class = kUrgent;
    loader_cv_.notify_all();
  }
  const auto t0 = LinkPacer::Clock::now();
  while (!stop_ && !(at = first_ready()).has_value()) {
    // Rather than wait for the loader thread to get a core (on a busy machine the compute
    // threads hold them), the waiting forward pass runs the step's next queued load itself.
    if (help_step_load(lock)) continue;
    // Wake at the earliest deadline of a landed load, or when another load lands.
    std::optional<LinkPacer::Clock::time_point> next;
    for (size_t i = 0; i < pending.size(); ++i) {
      const Entry& e = *entry(i);
      if (e.state == State::kReady && (!next || e.ready_at < *next)) next = e.ready_at;
    }
    if (next)
      wait_until_due(lock, *next);
    else
      ready_cv_.wait(lock);
  }
  book_stall(
      std::chrono::duration_cast<std::chrono::nanoseconds>(LinkPacer::Clock::now() - t0).count());
  if (!at) return 0;  // stopping: acquire reports it
  if (entry(*at)->by_prefetch) ++stats_.late_prefetches;
  return *at;
}

size_t ExpertLoader::take_ready(std::unique_lock<std::mutex>& lock, MoeLayerId m,
                                std::span<ExpertId> pending) {
  if (pending.empty()) return 0;
  const size_t first = next_ready(lock, m, pending);
  if (stop_ || !step_.active || step_.moe_layer != m) return first < pending.size() ? 1 : 0;
  // Experts not in the step count as ready: acquire reports them.
  const auto now = LinkPacer::Clock::now();
  auto ready = [&](ExpertId x) {
    if (x.value < 0 || x.value >= layout_.n_expert(m)) return true;
    const Entry& e = entries_[size_t(layout_.key_index({m, x}))];
    return e.step_slot < 0 || usable(e, now);
  };
  std::rotate(pending.begin(), pending.begin() + std::ptrdiff_t(first),
              pending.begin() + std::ptrdiff_t(first) + 1);
  const auto end = std::stable_partition(pending.begin() + 1, pending.end(), ready);
  return size_t(end - pending.begin());
}

ExpertWeights ExpertLoader::acquire(std::unique_lock<std::mutex>& lock, MoeLayerId m,
                                    ExpertId expert, LayerId block) {
  Entry& e = entries_[size_t(layout_.key_index({m, expert}))];
  if (!step_.active || step_.moe_layer != m || e.step_slot < 0) {
    fail("expert {} of block {} was acquired without hint_upcoming announcing it", expert.value,
         block.value);
  }
  if (!usable(e, LinkPacer::Clock::now())) {
    if (e.state == State::kQueued) {
      e.job_class = kUrgent;
      loader_cv_.notify_all();
    }
    const bool prefetched = e.by_prefetch;
    const auto t0 = LinkPacer::Clock::now();
    while (!stop_ && !usable(e, LinkPacer::Clock::now())) {
      if (e.state == State::kQueued && help_step_load(lock)) continue;  // as in next_ready
      if (e.state == State::kReady)
        wait_until_due(lock, e.ready_at);  // landed: due at its deadline on the link
      else
        ready_cv_.wait(lock);
    }
    const int64_t waited =
        std::chrono::duration_cast<std::chrono::nanoseconds>(LinkPacer::Clock::now() - t0).count();
    book_stall(waited);
    if (prefetched) ++stats_.late_prefetches;
  }
  if (e.state == State::kFailed) {
    const std::string error = e.error;
    e.state = State::kAbsent;
    e.error.clear();
    throw Error(error);
  }
  if (stop_) fail("the expert store is shutting down");
  e.by_prefetch = false;
  ++e.in_use;
  return packed_expert_views(layout_.tensors(m),
                             arena_->buffer(e.buffer, layout_.packed_bytes(m)).data());
}

void ExpertLoader::release(MoeLayerId m, ExpertId expert, LayerId block) {
  Entry& e = entries_[size_t(layout_.key_index({m, expert}))];
  if (e.in_use <= 0)
    fail("expert {} of block {} was released but not acquired", expert.value, block.value);
  if (--e.in_use > 0) return;
  if (e.role == Role::kScratch || e.role == Role::kDetached) {
    free_buffer(e);
    e.state = State::kAbsent;
    e.role = Role::kNone;
  }
}

void ExpertLoader::wait_until_due(std::unique_lock<std::mutex>& lock,
                                  LinkPacer::Clock::time_point due) {
  // A sleeping thread wakes when the scheduler gets to it: on a busy machine 100-200 us after
  // its time (measured), longer than a whole load on a fast link (80 us latency), so the stall
  // would be mostly wake-up. A deadline this close is waited for awake, without the lock. (Not
  // sched_yield: with other processes runnable it gives the core away for a whole time slice.)
  constexpr auto kSpinAtMost = std::chrono::microseconds(200);
  if (due - LinkPacer::Clock::now() > kSpinAtMost) {
    ready_cv_.wait_until(lock, due);
    return;
  }
  lock.unlock();
  while (LinkPacer::Clock::now() < due) {
  }
  lock.lock();
}

void ExpertLoader::book_stall(int64_t ns) {
  step_stall_ns_ += ns;
  ++stats_.stalls;
  stats_.stall_ns += ns;
  const int p = int(step_.phase);
  stall_phase_[size_t(p)] += ns;
  stall_layer_[size_t(p)][size_t(step_.moe_layer.value)] += ns;
  const auto t = size_t(step_.first_token);
  if (stall_token_.size() <= t) stall_token_.resize(t + 1, 0);
  stall_token_[t] += ns;
}

// ---- reports ----------------------------------------------------------------------------------

StoreStats ExpertLoader::stats() const {
  StoreStats s = stats_;
  s.max_buffers_in_use = arena_->max_in_use();
  return s;
}

policy::CacheReport ExpertLoader::measured(policy::CacheReport r) const {
  for (size_t p = 0; p < 2; ++p) {
    r.phase[p].stall_ns = stall_phase_[p];
    for (size_t l = 0; l < r.layer[p].size(); ++l) r.layer[p][l].stall_ns = stall_layer_[p][l];
  }
  for (size_t t = 0; t < r.token.size(); ++t) {
    r.token[t].stall_ns = t < stall_token_.size() ? stall_token_[t] : 0;
  }
  r.end_ns = now_ns();
  return r;
}

int64_t ExpertLoader::since_epoch(LinkPacer::Clock::time_point t) const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t - epoch_).count();
}

int64_t ExpertLoader::now_ns() const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(LinkPacer::Clock::now() - epoch_)
      .count();
}

// ---- the loader thread ------------------------------------------------------------------------

int64_t ExpertLoader::pick_job(bool step_only, bool demand_only) {
  // An emulated link carries one load at a time, booked in the order they land: one read at a
  // time keeps that the order they were picked in. Without a link two copies may run at once.
  if (loading_ > 0 && !pacer_.link().unlimited()) return -1;
  int64_t best = -1;
  size_t best_at = 0;
  size_t keep = 0;
  for (int64_t key : queue_) {
    Entry& e = entries_[size_t(key)];
    if (e.state != State::kQueued) {
      e.in_queue = false;  // cancelled or superseded
      continue;
    }
    queue_[keep++] = key;
    if (e.role == Role::kScratch && scratch_held_ >= scratch_) continue;
    if (step_only && e.step_slot < 0) continue;
    if (demand_only && e.job_class == kPrefetchJob) continue;
    if (best >= 0) {
      const Entry& b = entries_[size_t(best)];
      if (std::tie(e.job_class, e.job_order, e.job_seq) >=
          std::tie(b.job_class, b.job_order, b.job_seq)) {
        continue;
      }
    }
    best = key;
    best_at = keep - 1;
  }
  queue_.resize(keep);
  if (best < 0 || arena_->n_free() == 0) return -1;
  queue_.erase(queue_.begin() + std::ptrdiff_t(best_at));
  entries_[size_t(best)].in_queue = false;
  return best;
}

void ExpertLoader::loader_main() {
  std::unique_lock lock(mu_);
  while (true) {
    int64_t key = -1;
    while (!stop_) {
      // While the link is busy only demand loads are read ahead: they go first on the link
      // anyway, and are in memory at their deadline even if this thread is not scheduled then.
      // A prefetch is picked when the link is free, so that a demand load queued meanwhile still
      // goes before it.
      const std::optional<LinkPacer::Clock::time_point> free = pacer_.link_free();
      const bool busy = free && *free > LinkPacer::Clock::now();
      if ((key = pick_job(false, busy)) >= 0) break;
      if (busy)
        loader_cv_.wait_until(lock, *free);
      else
        loader_cv_.wait(lock);
    }
    if (stop_) return;
    run_load(lock, key);
  }
}

bool ExpertLoader::help_step_load(std::unique_lock<std::mutex>& lock) {
  const int64_t key = pick_job(true, false);
  if (key < 0) return false;
  run_load(lock, key);
  return true;
}

void ExpertLoader::run_load(std::unique_lock<std::mutex>& lock, int64_t key) {
  Entry& e = entries_[size_t(key)];
  const ExpertKey k = layout_.shape().key_at(key);
  const MoeLayerId m = k.layer;
  const uint64_t bytes = layout_.packed_bytes(m);
  e.buffer = arena_->allocate(bytes);
  if (e.role == Role::kScratch) ++scratch_held_;
  e.state = State::kLoading;
  ++loading_;
  ++stats_.loads_started;
  const std::span<std::byte> out = arena_->buffer(e.buffer, bytes);
  // On the link's schedule the load starts once queued and the link is free.
  const auto queued = epoch_ + std::chrono::nanoseconds(e.queued_ns);
  const auto picked = LinkPacer::Clock::now();

  lock.unlock();
  ReadCost cost;
  int64_t read_ns = 0;
  LinkPacer::Clock::time_point read_start = picked;
  std::string error;
  try {
    std::unique_lock<std::mutex> serial(source_mu_, std::defer_lock);
    if (!source_->concurrent_reads()) serial.lock();
    read_start = LinkPacer::Clock::now();
    cost.link_bytes = source_->fetch(m, k.expert.value, out);
    read_ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(LinkPacer::Clock::now() - read_start)
            .count();
    cost.decompress_ns = source_->decode(m, k.expert.value, out);
  } catch (const std::exception& ex) {
    error = ex.what();
    if (error.empty()) error = "loading an expert failed";
  }
  lock.lock();
  // The link's schedule is booked under the lock (the loader and the forward pass both load).
  LinkPacer::Slot slot{picked, picked};
  if (error.empty()) {
    slot = pacer_.schedule(queued, cost.link_bytes);
    if (pacer_.link().unlimited()) slot.start = picked;
  }
  // The data is in; it is usable from its deadline on the link, which the forward pass waits
  // for itself.
  const auto landed = LinkPacer::Clock::now();
  const auto ready_at = std::max(slot.end, landed);
  int64_t pace_ns = 0;
  if (slot.end > landed) {
    pace_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(slot.end - landed).count();
  }
  stats_.read_ns += read_ns;
  finish_load(key, error, cost, since_epoch(slot.start), pace_ns, ready_at);
  // A demand load read ahead while the link was busy began before its start on the link.
  stats_.load_ns += std::max<int64_t>(0, since_epoch(slot.start) - since_epoch(read_start));
  --loading_;
  ready_cv_.notify_all();   // wait_idle: the link is free
  loader_cv_.notify_all();  // the next load may start
}

void ExpertLoader::finish_load(int64_t key, const std::string& error, const ReadCost& cost,
                               int64_t start_ns, int64_t pace_ns,
                               LinkPacer::Clock::time_point ready_at) {
  Entry& e = entries_[size_t(key)];
  const int64_t end_ns = since_epoch(ready_at);  // its deadline on the link, or when it landed
  ++stats_.loads;
  stats_.link_bytes += int64_t(cost.link_bytes);
  stats_.raw_bytes += int64_t(layout_.packed_bytes(layout_.shape().key_at(key).layer));
  stats_.load_ns += end_ns - start_ns;
  stats_.pace_ns += pace_ns;
  stats_.decompress_ns += cost.decompress_ns;
  if (record_loads_) {
    const ExpertKey k = layout_.shape().key_at(key);
    log_.push_back(LoadRecord{layout_.block(k.layer), k.expert, e.kind, e.queued_ns, start_ns,
                              end_ns, e.discard});
  }

  if (e.discard) {
    e.discard = false;
    ++stats_.discarded_loads;
    free_buffer(e);
    e.state = State::kAbsent;
    if (e.requeue) {
      e.requeue = false;
      set_role(e, Role::kScratch);
      queue_job(key, LoadKind::kScratch, kDemandJob, e.step_slot);
    } else {
      set_role(e, Role::kNone);
    }
  } else if (!error.empty()) {
    free_buffer(e);
    e.state = State::kFailed;
    e.error = error;
  } else {
    e.state = State::kReady;
    e.ready_at = ready_at;
  }
  ready_cv_.notify_all();
}

void ExpertLoader::wait_idle(std::unique_lock<std::mutex>& lock) {
  ready_cv_.wait(lock, [&] {
    if (stop_ || loading_ > 0) return stop_;
    // Idle when nothing queued could start: scratch loads wait for their step's earlier experts.
    for (int64_t key : queue_) {
      const Entry& e = entries_[size_t(key)];
      if (e.state != State::kQueued) continue;
      if (e.role == Role::kScratch && scratch_held_ >= scratch_) continue;
      if (arena_->n_free() > 0) return false;
    }
    return true;
  });
}

}  // namespace moescope::offload
