#include "engine/offload/expert_store.h"

#include "engine/common/error.h"
#include "engine/model/model.h"
#include "engine/model/router_probe.h"
#include "engine/model/routing_trace_recorder.h"

namespace moescope::offload {

ExpertStore::ExpertStore(const gguf::GgufFile& file, const std::vector<LayerExpertTensors>& layers,
                         int32_t top_k, const OffloadConfig& config, GatingFunc gating)
    : layout_(file, layers, top_k),
      config_(config),
      gating_(gating),
      epoch_(LinkPacer::Clock::now()) {
  if (config.scratch_buffers < 1 || config.scratch_buffers > 64) {
    fail("the expert store needs 1 to 64 scratch buffers (got {})", config.scratch_buffers);
  }
  decisions_ = std::make_unique<CacheDecisions>(layout_.shape(), config);
  if (config.lossy.any()) {
    // Residency is read on the forward thread, the only one that changes it.
    lossy_ = std::make_unique<LossyGating>(config.lossy, layout_.shape(), gating,
                                           [this](MoeLayerId m, ExpertId e) {
                                             return decisions_->resident({m, e});
                                           });
  }
  loader_ = std::make_unique<ExpertLoader>(layout_, config, decisions_->capacity(), mu_, epoch_);
  pending_.resize(size_t(layout_.n_model_layers()));
}

ExpertStore::~ExpertStore() = default;

std::unique_ptr<ExpertStore> ExpertStore::attach(Model& model, const OffloadConfig& config,
                                                 MoeObserver* downstream) {
  auto store = std::make_unique<ExpertStore>(model.file(), model.expert_tensors(),
                                             static_cast<int32_t>(model.hparams().n_expert_used),
                                             config, model.hparams().gating);
  store->set_next_observer(downstream);
  if (!store->decisions_->router_probes().empty()) {
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
  if (const std::optional<MoeLayerId> m = layout_.moe_layer(event.layer)) {
    const int32_t pos = stream_base_ + (event.pos.value - forward_first_pos_);
    if (probe_ != nullptr) feed_router_probes(*m, pos, event.hidden);
    TokenRouting t{pos,
                   {event.experts.begin(), event.experts.end()},
                   {event.weights.begin(), event.weights.end()},
                   {}};
    if (config_.router_probs && event.router_logits.size() == size_t(layout_.n_expert(*m))) {
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

void ExpertStore::feed_router_probes(MoeLayerId m, int32_t pos, std::span<const float> hidden) {
  // Predictions are used in decode only, and a target in the next token would need that token's
  // hidden state, which does not exist yet.
  const bool decode = phase_override_.value_or(forward_tokens_ > 1 ? policy::Phase::kPrefill
                                                                   : policy::Phase::kDecode) ==
                      policy::Phase::kDecode;
  if (!decode) return;
  for (const policy::RouterProbeRequest& probe : decisions_->router_probes()) {
    const MoeLayerId target(m.value + probe.distance);
    if (target.value >= layout_.n_layers()) continue;
    const int32_t k =
        probe.k_prime > 0 ? probe.k_prime : layout_.shape().top_k[size_t(target.value)];
    probe_->top_experts(layout_.block(target), hidden, k, predicted_);
    const policy::PrefetchTarget at{TokenPos(pos), target};
    std::lock_guard lock(mu_);
    decisions_->supply_probe(probe, at, predicted_);
  }
}

policy::PredictionInputs ExpertStore::prediction_inputs() const {
  std::lock_guard lock(mu_);
  return decisions_->prediction_inputs();
}

// ---- provider ---------------------------------------------------------------------------------

ExpertWeights ExpertStore::acquire(LayerId layer, ExpertId expert) {
  const std::optional<MoeLayerId> m = layout_.moe_layer(layer);
  if (!m || expert.value < 0 || expert.value >= layout_.n_expert(*m)) {
    fail("the expert store has no expert {} in block {}", expert.value, layer.value);
  }
  std::unique_lock lock(mu_);
  return loader_->acquire(lock, *m, expert, layer);
}

size_t ExpertStore::next_to_run(LayerId layer, std::span<const ExpertId> pending) {
  const std::optional<MoeLayerId> m = layout_.moe_layer(layer);
  if (!m) fail("block {} has no routed experts to load", layer.value);
  std::unique_lock lock(mu_);
  return loader_->next_ready(lock, *m, pending);
}

size_t ExpertStore::take_ready(LayerId layer, std::span<ExpertId> pending) {
  const std::optional<MoeLayerId> m = layout_.moe_layer(layer);
  if (!m) fail("block {} has no routed experts to load", layer.value);
  std::unique_lock lock(mu_);
  return loader_->take_ready(lock, *m, pending);
}

void ExpertStore::release(LayerId layer, ExpertId expert) {
  const std::optional<MoeLayerId> m = layout_.moe_layer(layer);
  if (!m || expert.value < 0 || expert.value >= layout_.n_expert(*m)) {
    fail("the expert store has no expert {} in block {}", expert.value, layer.value);
  }
  std::lock_guard lock(mu_);
  loader_->release(*m, expert, layer);
}

void ExpertStore::wait_idle() {
  std::unique_lock lock(mu_);
  loader_->wait_idle(lock);
}

// ---- reports ----------------------------------------------------------------------------------

policy::CacheCapacity ExpertStore::capacity() const {
  std::lock_guard lock(mu_);
  return decisions_->capacity();
}

std::string ExpertStore::policy_name() const {
  std::lock_guard lock(mu_);
  return decisions_->report().policy;
}

policy::CacheReport ExpertStore::decisions() const {
  std::lock_guard lock(mu_);
  return decisions_->report();
}

policy::CacheReport ExpertStore::measured() const {
  std::lock_guard lock(mu_);
  return loader_->measured(decisions_->report());
}

StoreStats ExpertStore::stats() const {
  std::lock_guard lock(mu_);
  return loader_->stats();
}

std::vector<LoadRecord> ExpertStore::load_log() const {
  std::lock_guard lock(mu_);
  return loader_->load_log();
}

std::vector<int64_t> ExpertStore::compute_times() const {
  std::lock_guard lock(mu_);
  return loader_->compute_times();
}

std::vector<policy::ShadowResult> ExpertStore::shadow_results() const {
  std::lock_guard lock(mu_);
  return decisions_->shadow_results();
}

policy::AccessStream ExpertStore::recorded_stream() const {
  std::lock_guard lock(mu_);
  return decisions_->recorded_stream();
}

LossyCounters ExpertStore::lossy_counters() const {
  return lossy_ ? lossy_->counters() : LossyCounters{};
}

policy::Prefetcher* ExpertStore::prefetcher() {
  std::lock_guard lock(mu_);
  return decisions_->prefetcher();
}

}  // namespace moescope::offload
