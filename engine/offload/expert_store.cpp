#include "engine/offload/expert_store.h"

#include <algorithm>

#include "engine/common/error.h"
#include "engine/model/model.h"
#include "engine/model/router_probe.h"
#include "engine/model/routing_trace_recorder.h"
#include "engine/offload/expert_pack.h"
#include "engine/offload/store_listener.h"
#include "engine/policy/policy_factory.h"

namespace moescope::offload {

namespace {

// How many experts the capacity can hold at once: the arena's budget buffers.
int32_t max_residents(const policy::CacheCapacity& c, const ExpertLayout& layout) {
  const auto total = static_cast<uint64_t>(layout.total_experts());
  uint64_t n = 0;
  if (c.pool == policy::PoolKind::kPerLayer) {
    for (int32_t m = 0; m < layout.n_layers(); ++m) {
      n += uint64_t(std::clamp(c.layer_slots[size_t(m)], 0, layout.n_expert(m)));
    }
  } else if (c.in_bytes) {
    n = c.global / layout.min_packed_bytes();
  } else {
    n = c.global;
  }
  return static_cast<int32_t>(std::min(n, total));
}

}  // namespace

ExpertStore::ExpertStore(const gguf::GgufFile& file, const std::vector<LayerExpertTensors>& layers,
                         int32_t top_k, const OffloadConfig& config, GatingFunc gating)
    : layout_(file, layers, top_k),
      config_(config),
      gating_(gating),
      pacer_(config.link),
      epoch_(LinkPacer::Clock::now()) {
  if (config.scratch_buffers < 1 || config.scratch_buffers > 64) {
    fail("the expert store needs 1 to 64 scratch buffers (got {})", config.scratch_buffers);
  }
  scratch_ = config.scratch_buffers;

  // The decision core: the same objects a replay builds.
  const policy::PolicySpec spec = policy::parse_policy_spec(config.policy);
  policy::CacheCapacity capacity =
      config.capacity ? *config.capacity
                      : policy::make_capacity(spec.pool, config.budget, layout_.shape(),
                                              config.allocator, config.history);
  if (capacity.pool != spec.pool) {
    fail("policy '{}' runs over {} but the capacity given is {}", spec.text,
         spec.pool == policy::PoolKind::kGlobal ? "one global pool" : "per-layer partitions",
         capacity.pool == policy::PoolKind::kGlobal ? "a global pool" : "per layer");
  }
  auto policy = policy::make_policy(spec, {config.future, config.history});
  auto prefetcher = policy::make_prefetcher(config.prefetcher, {config.history});
  policy::TimingModel timing;
  timing.link = config.link;
  sim_ = std::make_unique<policy::CacheSimulator>(layout_.shape(), std::move(capacity),
                                                  std::move(policy), std::move(prefetcher), timing,
                                                  spec.text);
  listener_ = std::make_unique<Listener>(layout_.shape());
  sim_->set_listener(listener_.get());

  // Shadows: the same budget (the same capacity where the pool kind matches), link and steps.
  if (!config.compare.empty() || config.record_stream) {
    policy::ShadowSetup setup;
    setup.shape = layout_.shape();
    setup.budget = config.budget;
    if (config.capacity) {
      const policy::CacheCapacity& c = *config.capacity;
      setup.budget = c.in_bytes ? policy::Budget::bytes(c.global)
                                : policy::Budget::slots(c.total_slots(layout_.shape()));
      setup.capacity = c;
    }
    setup.allocator = config.allocator;
    setup.timing = timing;
    setup.history = config.history;
    setup.record = config.record_stream;
    shadows_ = std::make_unique<policy::ShadowSet>(std::move(setup), config.compare);
  }
  // The router probes any prefetcher asks for: the driving one's, then the shadows'.
  driving_probe_ = sim_->prefetcher()->inputs().router_probe;
  if (driving_probe_) probes_.push_back(*driving_probe_);
  if (shadows_) {
    for (const policy::RouterProbeRequest& probe : shadows_->router_probes()) {
      if (std::find(probes_.begin(), probes_.end(), probe) == probes_.end())
        probes_.push_back(probe);
    }
  }
  if (config.lossy.any()) {
    std::vector<int32_t> moe_index(size_t(layout_.n_model_layers()));
    for (int32_t il = 0; il < layout_.n_model_layers(); ++il)
      moe_index[size_t(il)] = layout_.moe_index(LayerId(il));
    // Residency is read on the forward thread, the only one that changes it.
    lossy_ = std::make_unique<LossyGating>(config.lossy, std::move(moe_index), gating,
                                           [this](int32_t m, ExpertId e) {
                                             return sim_->resident({LayerId(m), e});
                                           });
  }

  // The fast tier and the slow one.
  const int32_t slots = max_residents(sim_->capacity(), layout_);
  arena_ = std::make_unique<ExpertArena>(slots + scratch_, layout_.max_packed_bytes());
  if (config.pack.empty()) {
    source_ = std::make_unique<GgufExpertSource>(layout_);
  } else {
    source_ = std::make_unique<PackExpertSource>(layout_, ExpertPack::open(config.pack, layout_));
  }
  release_mapped_experts(layout_);

  entries_.resize(size_t(layout_.total_experts()));
  pending_.resize(size_t(layout_.n_model_layers()));
  for (auto& layers_of_phase : stall_layer_) layers_of_phase.assign(size_t(layout_.n_layers()), 0);
  stats_.buffers = arena_->n_buffers();
  stats_.scratch_buffers = scratch_;
  stats_.buffer_bytes = arena_->buffer_bytes();

  loader_ = std::thread(&ExpertStore::loader_main, this);
}

ExpertStore::~ExpertStore() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  loader_cv_.notify_all();
  ready_cv_.notify_all();
  loader_.join();
}

std::unique_ptr<ExpertStore> ExpertStore::attach(Model& model, const OffloadConfig& config,
                                                 MoeObserver* downstream) {
  auto store = std::make_unique<ExpertStore>(model.file(), model.expert_tensors(),
                                             static_cast<int32_t>(model.hparams().n_expert_used),
                                             config, model.hparams().gating);
  store->set_next_observer(downstream);
  if (!store->probes_.empty()) {
    store->set_router_probe(std::make_unique<RouterProbe>(model));
  }
  model.set_expert_provider(store.get());
  model.set_observer(store.get());
  if (store->lossy_) model.set_routing_override(store->lossy_.get());
  return store;
}

void ExpertStore::detach(Model& model) {
  model.set_expert_provider(nullptr);
  model.set_observer(next_);
  if (lossy_ && model.routing_override() == lossy_.get()) model.set_routing_override(nullptr);
}

void ExpertStore::set_router_probe(std::unique_ptr<RouterProbe> probe) {
  probe_ = std::move(probe);
}

// ---- observer ---------------------------------------------------------------------------------

void ExpertStore::on_forward_begin(TokenPos first, int n_tokens) {
  forward_tokens_ = n_tokens;
  forward_first_pos_ = first.value;
  stream_base_ = next_stream_token_;
  next_stream_token_ += n_tokens;
  for (auto& tokens : pending_) tokens.clear();
  if (next_ != nullptr) next_->on_forward_begin(first, n_tokens);
}

void ExpertStore::on_routing(const MoeRoutingEvent& event) {
  const int32_t m = layout_.moe_index(event.layer);
  if (m >= 0) {
    const int32_t pos = stream_base_ + (event.pos.value - forward_first_pos_);
    if (probe_ != nullptr) feed_router_probes(m, pos, event.hidden);
    TokenRouting t{pos,
                   {event.experts.begin(), event.experts.end()},
                   {event.weights.begin(), event.weights.end()},
                   {}};
    if (config_.router_probs && event.router_logits.size() == size_t(layout_.n_expert(m))) {
      t.probs.resize(event.router_logits.size());
      router_distribution(gating_, event.router_logits, t.probs);
    }
    pending_[size_t(event.layer.value)].push_back(std::move(t));
  }
  if (next_ != nullptr) next_->on_routing(event);
}

void ExpertStore::on_forward_end() {
  {
    std::lock_guard lock(mu_);
    end_previous_step();
  }
  if (next_ != nullptr) next_->on_forward_end();
}

void ExpertStore::feed_router_probes(int32_t m, int32_t pos, std::span<const float> hidden) {
  // Predictions are used in decode only, and a target in the next token would need that token's
  // hidden state, which does not exist yet.
  const bool decode = phase_override_.value_or(forward_tokens_ > 1 ? policy::Phase::kPrefill
                                                                   : policy::Phase::kDecode) ==
                      policy::Phase::kDecode;
  if (!decode) return;
  for (const policy::RouterProbeRequest& probe : probes_) {
    const int32_t target = m + probe.distance;
    if (target >= layout_.n_layers()) continue;
    const int32_t k = probe.k_prime > 0 ? probe.k_prime : layout_.shape().top_k[size_t(target)];
    probe_->top_experts(LayerId(layout_.model_layer(target)), hidden, k, predicted_);
    const policy::PrefetchTarget at{TokenPos(pos), LayerId(target)};
    std::lock_guard lock(mu_);
    if (driving_probe_ == probe) sim_->prefetcher()->supply_probe(at, predicted_);
    if (shadows_) shadows_->supply_probe(probe, at, predicted_);
  }
}

policy::PredictionInputs ExpertStore::prediction_inputs() const {
  std::lock_guard lock(mu_);
  return sim_->prefetcher()->inputs();
}

// ---- provider ---------------------------------------------------------------------------------

ExpertWeights ExpertStore::acquire(LayerId layer, ExpertId expert) {
  const int32_t m = layout_.moe_index(layer);
  if (m < 0 || expert.value < 0 || expert.value >= layout_.n_expert(m)) {
    fail("the expert store has no expert {} in block {}", expert.value, layer.value);
  }
  const int64_t key = layout_.key_index(m, expert.value);
  std::unique_lock lock(mu_);
  Entry& e = entries_[size_t(key)];
  if (!step_.active || step_.moe_layer != m || e.step_slot < 0) {
    fail("expert {} of block {} was acquired without hint_upcoming announcing it", expert.value,
         layer.value);
  }
  if (e.state != State::kReady) {
    if (e.state == State::kQueued) {
      e.job_class = kUrgent;
      loader_cv_.notify_all();
    }
    const bool prefetched = e.by_prefetch;
    const auto t0 = LinkPacer::Clock::now();
    ready_cv_.wait(lock,
                   [&] { return stop_ || e.state == State::kReady || e.state == State::kFailed; });
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

void ExpertStore::release(LayerId layer, ExpertId expert) {
  const int32_t m = layout_.moe_index(layer);
  if (m < 0 || expert.value < 0 || expert.value >= layout_.n_expert(m)) {
    fail("the expert store has no expert {} in block {}", expert.value, layer.value);
  }
  std::lock_guard lock(mu_);
  Entry& e = entries_[size_t(layout_.key_index(m, expert.value))];
  if (e.in_use <= 0)
    fail("expert {} of block {} was released but not acquired", expert.value, layer.value);
  if (--e.in_use > 0) return;
  if (e.role == Role::kScratch || e.role == Role::kDetached) {
    free_buffer(e);
    e.state = State::kAbsent;
    e.role = Role::kNone;
  }
}

void ExpertStore::book_stall(int64_t ns) {
  step_stall_ns_ += ns;
  ++stats_.stalls;
  stats_.stall_ns += ns;
  const int p = int(step_.phase);
  stall_phase_[size_t(p)] += ns;
  stall_layer_[size_t(p)][size_t(step_.moe_layer)] += ns;
  const auto t = size_t(step_.first_token);
  if (stall_token_.size() <= t) stall_token_.resize(t + 1, 0);
  stall_token_[t] += ns;
}

// ---- reports ----------------------------------------------------------------------------------

policy::CacheCapacity ExpertStore::capacity() const {
  std::lock_guard lock(mu_);
  return sim_->capacity();
}

std::string ExpertStore::policy_name() const {
  std::lock_guard lock(mu_);
  return sim_->report().policy;
}

policy::CacheReport ExpertStore::decisions() const {
  std::lock_guard lock(mu_);
  return sim_->report();
}

policy::CacheReport ExpertStore::measured() const {
  std::lock_guard lock(mu_);
  policy::CacheReport r = sim_->report();
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

StoreStats ExpertStore::stats() const {
  std::lock_guard lock(mu_);
  StoreStats s = stats_;
  s.max_buffers_in_use = arena_->max_in_use();
  return s;
}

std::vector<LoadRecord> ExpertStore::load_log() const {
  std::lock_guard lock(mu_);
  return log_;
}

std::vector<int64_t> ExpertStore::compute_times() const {
  std::lock_guard lock(mu_);
  return compute_ns_;
}

std::vector<policy::ShadowResult> ExpertStore::shadow_results() const {
  std::lock_guard lock(mu_);
  return shadows_ ? shadows_->results() : std::vector<policy::ShadowResult>{};
}

policy::AccessStream ExpertStore::recorded_stream() const {
  std::lock_guard lock(mu_);
  return shadows_ ? shadows_->recorded_stream() : policy::AccessStream{};
}

LossyCounters ExpertStore::lossy_counters() const {
  return lossy_ ? lossy_->counters() : LossyCounters{};
}

policy::Prefetcher* ExpertStore::prefetcher() {
  std::lock_guard lock(mu_);
  return sim_->prefetcher();
}

int64_t ExpertStore::now_ns() const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(LinkPacer::Clock::now() - epoch_)
      .count();
}

}  // namespace moescope::offload
