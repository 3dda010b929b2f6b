#include "storage/store_recording.h"

#include "engine/policy/allocators.h"
#include "engine/policy/policy_factory.h"

namespace moescope::storage {

StoreRecording::StoreRecording(TraceWriter& writer, const offload::ExpertStore& store,
                               const offload::OffloadConfig& config)
    : writer_(writer), store_(store) {
  PolicyDescription primary;
  primary.primary = true;
  primary.spec = policy::parse_policy_spec(config.policy).text;
  primary.prefetcher = config.prefetcher;
  primary.capacity = store.capacity();
  primary.timing.link = config.link;
  primary.measured_compute = config.measured_compute;
  primary_ = writer.add_policy(primary);
  // A mirror whose prefetcher asks for router probes needs them in the trace (TraceObserver
  // records them).
  if (!store.prediction_inputs().router_probe || writer.records_gate_predictions()) {
    PolicyDescription mirror = primary;
    mirror.measured_compute = false;
    writer.simulate_policy(mirror, {nullptr, config.history}, /*cache_events=*/true,
                           /*counters=*/false);
  }
  // The shadows run on the same budget, link and compute times; their capacity as ShadowSet
  // derives it.
  for (const policy::ShadowSpec& s : config.compare) {
    PolicyDescription d = primary;
    d.primary = false;
    const policy::PolicySpec spec = policy::parse_policy_spec(s.policy);
    d.spec = spec.text;
    d.prefetcher = s.prefetcher;
    d.capacity = config.capacity && config.capacity->pool == spec.pool
                     ? *config.capacity
                     : policy::make_capacity(spec.pool, config.budget, store.shape(),
                                             config.allocator, config.history);
    shadows_.push_back(writer.add_policy(d));
  }
}

void StoreRecording::progress() {
  writer_.policy_report(primary_, store_.decisions(), false);
  writer_.cache_compute_times(store_.compute_times());
}

void StoreRecording::finish() {
  writer_.policy_report(primary_, store_.decisions(), true);
  writer_.cache_compute_times(store_.compute_times());
  const std::vector<policy::ShadowResult> results = store_.shadow_results();
  for (size_t i = 0; i < results.size() && i < shadows_.size(); ++i) {
    writer_.policy_report(shadows_[i], results[i].report, true);
  }
}

}  // namespace moescope::storage
