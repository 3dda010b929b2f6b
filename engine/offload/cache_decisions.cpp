#include "engine/offload/cache_decisions.h"

#include <algorithm>

#include "engine/common/error.h"
#include "engine/policy/policy_factory.h"

namespace moescope::offload {

StepChanges::StepChanges(const policy::MoeShape& shape)
    : seen(size_t(shape.total_experts()), 0),
      prefetched(size_t(shape.total_experts()), 0),
      demanded(size_t(shape.total_experts()), 0),
      shape_(shape) {}

void StepChanges::on_load(ExpertKey key, bool prefetch, bool /*admitted*/) {
  const int64_t k = touch(key);
  (prefetch ? prefetched : demanded)[size_t(k)] = 1;
}

void StepChanges::on_evict(ExpertKey key) {
  touch(key);
}

void StepChanges::clear() {
  for (int64_t k : touched) seen[size_t(k)] = prefetched[size_t(k)] = demanded[size_t(k)] = 0;
  touched.clear();
}

int64_t StepChanges::touch(ExpertKey key) {
  const int64_t k = shape_.key_index(key);
  if (!seen[size_t(k)]) {
    seen[size_t(k)] = 1;
    touched.push_back(k);
  }
  return k;
}

CacheDecisions::CacheDecisions(const policy::MoeShape& shape, const OffloadConfig& config) {
  // The same objects a replay builds.
  const policy::PolicySpec spec = policy::parse_policy_spec(config.policy);
  policy::CacheCapacity capacity = config.capacity
                                       ? *config.capacity
                                       : policy::make_capacity(spec.pool, config.budget, shape,
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
  sim_ = std::make_unique<policy::CacheSimulator>(shape, std::move(capacity), std::move(policy),
                                                  std::move(prefetcher), timing, spec.text);
  changes_ = std::make_unique<StepChanges>(shape);
  sim_->set_listener(changes_.get());

  // Shadows: the same budget (the same capacity where the pool kind matches), link and steps.
  if (!config.compare.empty() || config.record_stream) {
    policy::ShadowSetup setup;
    setup.shape = shape;
    setup.budget = config.budget;
    if (config.capacity) {
      const policy::CacheCapacity& c = *config.capacity;
      setup.budget = c.in_bytes ? policy::Budget::bytes(c.global)
                                : policy::Budget::slots(c.total_slots(shape));
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
}

CacheDecisions::~CacheDecisions() = default;

void CacheDecisions::begin_step(const policy::StepInput& in) {
  changes_->clear();
  sim_->begin_step(in);
}

void CacheDecisions::begin_shadow_step(const policy::StepInput& in) {
  if (!shadows_) return;
  shadows_->begin_step(in);
  shadows_open_ = true;
}

void CacheDecisions::end_step(int64_t compute_ns) {
  if (sim_->in_step()) sim_->end_step(compute_ns);
  if (shadows_open_) shadows_->end_step(compute_ns);
  shadows_open_ = false;
}

void CacheDecisions::supply_probe(const policy::RouterProbeRequest& probe,
                                  policy::PrefetchTarget target,
                                  std::span<const ExpertId> experts) {
  if (driving_probe_ == probe) sim_->prefetcher()->supply_probe(target, experts);
  if (shadows_) shadows_->supply_probe(probe, target, experts);
}

std::vector<policy::ShadowResult> CacheDecisions::shadow_results() const {
  return shadows_ ? shadows_->results() : std::vector<policy::ShadowResult>{};
}

policy::AccessStream CacheDecisions::recorded_stream() const {
  return shadows_ ? shadows_->recorded_stream() : policy::AccessStream{};
}

}  // namespace moescope::offload
