// The expert store's steps: feed the decision core, then make the physical state follow it.
//
// Buffer accounting that keeps the loader deadlock-free: the policy never has more experts
// resident than the arena has budget buffers, and the running step's other experts ("scratch")
// share the scratch buffers, granted in the order the MoE block uses them. So a resident load
// always finds a buffer once the (single) load in progress has landed, and a scratch load finds
// one once the scratch experts used before it have been released.
#include <algorithm>
#include <chrono>

#include "engine/common/error.h"
#include "engine/offload/expert_store.h"
#include "engine/offload/store_listener.h"
#include "engine/policy/access_step.h"

namespace moescope::offload {

void ExpertStore::hint_upcoming(LayerId layer, std::span<const ExpertId> experts) {
  const int32_t m = layout_.moe_index(layer);
  if (m < 0) fail("block {} has no routed experts to load", layer.value);
  for (ExpertId e : experts) {
    if (e.value < 0 || e.value >= layout_.n_expert(m)) {
      fail("block {} has no expert {}", layer.value, e.value);
    }
  }
  // The step as the access stream spells it: the chunk's tokens, and its distinct experts in
  // order of first use (for one token: top-k order).
  std::vector<TokenRouting>& tokens = pending_[size_t(layer.value)];
  if (tokens.empty()) {
    // No observer events (the store is used as a bare provider): one token per pass over the
    // layers, the experts in the order given, equal weights.
    if (m <= last_hint_layer_ || synthetic_token_ < 0) ++synthetic_token_;
    TokenRouting t{synthetic_token_, {experts.begin(), experts.end()}, {}, {}};
    t.weights.assign(experts.size(), experts.empty() ? 0.0f : 1.0f / float(experts.size()));
    tokens.push_back(std::move(t));
  }
  last_hint_layer_ = m;

  std::vector<policy::TokenLayerRouting> routing;
  for (size_t i = 0; i < tokens.size(); ++i) {
    const TokenRouting& t = tokens[i];
    if (t.pos != tokens[0].pos + int32_t(i)) {
      fail("block {} reported routing for positions that are not consecutive", layer.value);
    }
    for (ExpertId e : t.experts) {
      if (e.value < 0 || e.value >= layout_.n_expert(m)) {
        fail("block {} routed a token to expert {}, which does not exist", layer.value, e.value);
      }
    }
    routing.push_back({t.experts, t.weights, t.probs});
  }
  const bool prefill = forward_tokens_ > 1 || tokens.size() > 1;
  policy::StepBuilder builder;
  const policy::StepInput& in = builder.make_step(
      TokenPos(tokens[0].pos), LayerId(m),
      phase_override_.value_or(prefill ? policy::Phase::kPrefill : policy::Phase::kDecode),
      routing, layout_.n_expert(m));
  bool same = in.experts.size() == experts.size();
  for (ExpertId e : experts) {
    same = same && std::find(in.experts.begin(), in.experts.end(), e) != in.experts.end();
  }
  if (!same) {
    fail("the experts block {} asked for differ from the ones its router selected", layer.value);
  }

  std::unique_lock lock(mu_);
  end_previous_step();
  step_.active = true;
  step_.moe_layer = m;
  step_.first_token = in.first_token.value;
  step_.n_tokens = in.n_tokens;
  step_.phase = in.phase;
  step_.keys.clear();
  for (size_t i = 0; i < experts.size(); ++i) {
    const int64_t key = layout_.key_index(m, experts[i].value);
    step_.keys.push_back(key);
    entries_[size_t(key)].step_slot = int32_t(i);
  }
  ++prefetch_order_;
  listener_->clear();
  try {
    sim_->begin_step(in);
  } catch (...) {
    // Whatever the decision core did before it failed still has to be mirrored.
    reconcile();
    listener_->clear();
    tokens.clear();
    throw;
  }
  reconcile();
  listener_->clear();
  if (shadows_) {
    shadows_->begin_step(in);  // in.routing points into `tokens`
    shadows_open_ = true;
  }
  tokens.clear();
  step_stall_ns_ = 0;
  step_start_ = LinkPacer::Clock::now();
}

void ExpertStore::end_previous_step() {
  if (sim_->in_step() || shadows_open_) {
    // The layer has run: its compute time is the step's wall time less what it waited.
    int64_t compute = -1;
    if (config_.measured_compute) {
      const int64_t wall = std::chrono::duration_cast<std::chrono::nanoseconds>(
                               LinkPacer::Clock::now() - step_start_)
                               .count();
      compute = std::max<int64_t>(0, wall - step_stall_ns_);
      const size_t L = size_t(layout_.n_layers());
      const size_t end = (size_t(step_.first_token) + size_t(step_.n_tokens)) * L;
      if (compute_ns_.size() < end) compute_ns_.resize(end, 0);
      compute_ns_[size_t(step_.first_token) * L + size_t(step_.moe_layer)] = compute;
    }
    if (sim_->in_step()) sim_->end_step(compute);
    if (shadows_open_) shadows_->end_step(compute);
    shadows_open_ = false;
  }
  for (int64_t key : step_.keys) {
    Entry& e = entries_[size_t(key)];
    e.step_slot = -1;
    if (e.role == Role::kScratch) drop(key);
  }
  step_.keys.clear();
  step_.active = false;
}

void ExpertStore::reconcile() {
  const Listener& did = *listener_;
  // Experts the policy loaded or evicted outside the running step (prefetches, victims).
  for (int64_t key : did.touched) {
    if (entries_[size_t(key)].step_slot >= 0) continue;
    if (sim_->resident(layout_.shape().key_at(key)))
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
    if (sim_->resident(layout_.shape().key_at(key))) {
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

void ExpertStore::make_resident(int64_t key, bool prefetch) {
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

void ExpertStore::drop(int64_t key) {
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
      free_buffer(e);
      e.state = State::kAbsent;
      break;
    case State::kAbsent:
      break;
  }
  set_role(e, Role::kNone);
  e.by_prefetch = false;
}

void ExpertStore::queue_job(int64_t key, LoadKind kind, uint8_t job_class, int64_t order) {
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

void ExpertStore::set_role(Entry& e, Role role) {
  if (e.buffer >= 0 && e.role == Role::kScratch) --scratch_held_;
  e.role = role;
  if (e.buffer >= 0 && e.role == Role::kScratch) ++scratch_held_;
}

void ExpertStore::free_buffer(Entry& e) {
  if (e.buffer < 0) return;
  if (e.role == Role::kScratch) --scratch_held_;
  arena_->free(e.buffer);
  e.buffer = -1;
  loader_cv_.notify_all();
}

}  // namespace moescope::offload
