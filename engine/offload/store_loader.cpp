// The expert store's loader thread: one load at a time, the most urgent first (an expert the
// forward pass is waiting for, then the running step's experts in use order, then prefetches in
// the order of the steps that issued them), each paced to the emulated link.
#include <tuple>

#include "engine/common/error.h"
#include "engine/offload/expert_store.h"

namespace moescope::offload {

int64_t ExpertStore::pick_job() {
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

void ExpertStore::loader_main() {
  std::unique_lock lock(mu_);
  while (true) {
    int64_t key = -1;
    loader_cv_.wait(lock, [&] { return stop_ || (key = pick_job()) >= 0; });
    if (stop_) return;

    Entry& e = entries_[size_t(key)];
    const ExpertKey k = layout_.shape().key_at(key);
    const int32_t m = k.layer.value;
    const uint64_t bytes = layout_.packed_bytes(m);
    e.buffer = arena_->allocate(bytes);
    if (e.role == Role::kScratch) ++scratch_held_;
    e.state = State::kLoading;
    ++loading_;
    ++stats_.loads_started;
    const std::span<std::byte> out = arena_->buffer(e.buffer, bytes);
    const auto start = LinkPacer::Clock::now();
    const int64_t start_ns = now_ns();

    lock.unlock();
    ReadCost cost;
    int64_t pace_ns = 0;
    std::string error;
    try {
      cost.link_bytes = source_->fetch(m, k.expert.value, out);
      pace_ns = pacer_.pace(start, cost.link_bytes);
      cost.decompress_ns = source_->decode(m, k.expert.value, out);
    } catch (const std::exception& ex) {
      error = ex.what();
      if (error.empty()) error = "loading an expert failed";
    }
    lock.lock();
    finish_load(key, error, cost, start_ns, pace_ns);
  }
}

void ExpertStore::finish_load(int64_t key, const std::string& error, const ReadCost& cost,
                              int64_t start_ns, int64_t pace_ns) {
  Entry& e = entries_[size_t(key)];
  --loading_;
  const int64_t end_ns = now_ns();
  ++stats_.loads;
  stats_.link_bytes += int64_t(cost.link_bytes);
  stats_.raw_bytes += int64_t(layout_.packed_bytes(layout_.shape().key_at(key).layer.value));
  stats_.load_ns += end_ns - start_ns;
  stats_.pace_ns += pace_ns;
  stats_.decompress_ns += cost.decompress_ns;
  if (config_.record_loads) {
    const ExpertKey k = layout_.shape().key_at(key);
    log_.push_back(LoadRecord{LayerId(layout_.model_layer(k.layer.value)), k.expert, e.kind,
                              e.queued_ns, start_ns, end_ns, e.discard});
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
  }
  ready_cv_.notify_all();
}

void ExpertStore::wait_idle() {
  std::unique_lock lock(mu_);
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
