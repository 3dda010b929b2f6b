// The loader mirrors the decisions: after each step's decisions, the physical state follows.
//
// Buffer accounting that keeps the loader deadlock-free: the policy never has more experts
// resident than the arena has budget buffers, and the running step's other experts ("scratch")
// share the scratch buffers, granted in the order the MoE block uses them. So a resident load
// always finds a buffer once the loads in progress (at most two without a link: the loader's and
// the forward pass's) have landed, and a scratch load finds one once the scratch experts used
// before it have been released.
#include <algorithm>

#include "engine/common/error.h"
#include "engine/offload/expert_loader.h"

namespace moescope::offload {

void ExpertLoader::mirror(const CacheDecisions& decisions) {
  const StepChanges& did = decisions.changes();
  // Experts the policy loaded or evicted outside the running step (prefetches, victims).
  for (int64_t key : did.touched) {
    if (entries_[size_t(key)].step_slot >= 0) continue;
    if (decisions.resident(layout_.shape().key_at(key)))
      make_resident(key, did.prefetched[size_t(key)]);
    else
      drop(key);
  }
  // The running step's experts, in use order.
  int32_t n_scratch = 0;
  for (int64_t key : step_.keys) {
    Entry& e = entries_[size_t(key)];
    const bool missed = did.demanded[size_t(key)] != 0;
    // A copy, or a load under way, that a miss of this step can use instead of a new load.
    const bool pending =
        e.state == State::kQueued || e.state == State::kLoading || e.state == State::kReady;
    if (decisions.resident(layout_.shape().key_at(key))) {
      if (missed && pending) ++stats_.saved_loads;
      make_resident(key, false);
      continue;
    }
    const bool scratch_free = n_scratch++ < scratch_;
    if (scratch_free && has_data(e) && e.role != Role::kDetached) {
      set_role(e, Role::kScratch);  // keep the copy this step already has
      e.discard = e.requeue = false;
      if (missed) ++stats_.saved_loads;
      continue;
    }
    if (e.state == State::kQueued) {  // the queued load now serves as the scratch load
      set_role(e, Role::kScratch);
      e.kind = LoadKind::kScratch;
      e.job_class = std::min<uint8_t>(e.job_class, kDemandJob);
      e.job_order = e.step_slot;
      if (missed) ++stats_.saved_loads;
      continue;
    }
    if (has_data(e) && !missed) ++stats_.reloads;
    if (e.in_use > 0) fail("an expert of the running step is still acquired");
    drop(key);
    if (e.state == State::kLoading) {
      e.requeue = true;  // lands, is dropped, then queued as scratch
    } else {
      set_role(e, Role::kScratch);
      queue_job(key, LoadKind::kScratch, kDemandJob, e.step_slot);
    }
  }
}

void ExpertLoader::make_resident(int64_t key, bool prefetch) {
  Entry& e = entries_[size_t(key)];
  set_role(e, Role::kResident);
  const bool in_step = e.step_slot >= 0;
  switch (e.state) {
    case State::kAbsent:
    case State::kFailed:
      e.error.clear();
      if (in_step)
        queue_job(key, LoadKind::kDemand, kDemandJob, e.step_slot);
      else
        queue_job(key, prefetch ? LoadKind::kPrefetch : LoadKind::kDemand, kPrefetchJob,
                  prefetch_order_);
      break;
    case State::kQueued:
      // A queued prefetch the step needs now moves up with the demand loads.
      if (in_step && e.job_class == kPrefetchJob) {
        e.job_class = kDemandJob;
        e.job_order = e.step_slot;
      }
      break;
    case State::kLoading:
      if (e.discard && !in_step && prefetch) ++stats_.saved_loads;  // revived in flight
      e.discard = false;
      e.requeue = false;
      break;
    case State::kReady:
      break;
  }
}

void ExpertLoader::drop(int64_t key) {
  Entry& e = entries_[size_t(key)];
  e.requeue = false;
  if (e.in_use > 0) {
    set_role(e, Role::kDetached);  // its user still reads the buffer: freed at release
    return;
  }
  switch (e.state) {
    case State::kQueued:  // the stale queue item is skipped by the loader
    case State::kFailed:
      e.state = State::kAbsent;
      e.error.clear();
      break;
    case State::kLoading:
      e.discard = true;  // the buffer is freed when the load lands
      break;
    case State::kReady:
      // Landed but not yet due on the link: still in flight there, so its load is discarded.
      if (e.ready_at > LinkPacer::Clock::now()) note_discarded(key);
      free_buffer(e);
      e.state = State::kAbsent;
      break;
    case State::kAbsent:
      break;
  }
  set_role(e, Role::kNone);
  e.by_prefetch = false;
}

void ExpertLoader::note_discarded(int64_t key) {
  ++stats_.discarded_loads;
  if (!record_loads_) return;
  const ExpertKey k = layout_.shape().key_at(key);
  for (auto it = log_.rbegin(); it != log_.rend(); ++it) {
    if (it->layer == layout_.block(k.layer) && it->expert == k.expert) {
      it->discarded = true;
      return;
    }
  }
}

void ExpertLoader::queue_job(int64_t key, LoadKind kind, uint8_t job_class, int64_t order) {
  Entry& e = entries_[size_t(key)];
  e.state = State::kQueued;
  e.kind = kind;
  e.job_class = job_class;
  e.job_order = order;
  e.job_seq = ++job_seq_;
  e.queued_ns = now_ns();
  e.by_prefetch = kind == LoadKind::kPrefetch;
  if (!e.in_queue) {
    e.in_queue = true;
    queue_.push_back(key);
  }
  loader_cv_.notify_all();
}

void ExpertLoader::set_role(Entry& e, Role role) {
  if (e.buffer >= 0 && e.role == Role::kScratch) --scratch_held_;
  e.role = role;
  if (e.buffer >= 0 && e.role == Role::kScratch) ++scratch_held_;
}

void ExpertLoader::free_buffer(Entry& e) {
  if (e.buffer < 0) return;
  if (e.role == Role::kScratch) --scratch_held_;
  arena_->free(e.buffer);
  e.buffer = -1;
  loader_cv_.notify_all();
}

}  // namespace moescope::offload
