#include "views/session/session_config.h"

#include "engine/common/error.h"
#include "engine/policy/allocators.h"
#include "engine/policy/policy_factory.h"
#include "storage/run_info.h"

namespace moescope::views {
namespace {

bool is_history_policy(const QString& spec) {
  try {
    return policy::parse_policy_spec(spec.toStdString()).needs_history;
  } catch (const Error&) {
    return false;  // the store reports the bad spelling
  }
}

// No real cache: the chosen policy (with cache events) and the online compared ones, simulated on
// the recorded routing.
std::vector<storage::PolicyDescription> simulated_policies(const LoadedModel& model,
                                                           const CacheSettings& cache,
                                                           const offload::OffloadConfig& config) {
  const policy::Budget budget = policy::Budget::slots(budget_slots(cache, model.shape));
  const policy::AllocatorKind allocator = policy::parse_allocator(cache.allocator.toStdString());
  QStringList specs = {cache.policy};
  for (const QString& s : cache.compare) {
    if (!specs.contains(s)) specs << s;
  }
  std::vector<storage::PolicyDescription> out;
  for (const QString& text : specs) {
    const policy::PolicySpec spec = policy::parse_policy_spec(text.toStdString());
    if (spec.oracle || spec.needs_history) continue;
    storage::PolicyDescription d;
    d.primary = text == cache.policy;
    d.spec = spec.text;
    d.prefetcher = cache.prefetcher.toStdString();
    d.capacity = policy::make_capacity(spec.pool, budget, model.shape, allocator);
    d.timing.link = config.link;
    d.measured_compute = false;
    out.push_back(std::move(d));
  }
  return out;
}

storage::RecordingConfig recording_config(const LoadedModel& model, const RunSettings& settings,
                                          const offload::OffloadConfig& config) {
  storage::RecordingConfig rc;
  rc.trace = settings.trace_path.toStdString();
  // The full router logits too: a reopened run shows the same router entropy as the live one.
  rc.router_logits = true;
  rc.info.label = "moescope GUI";
  rc.info.model = storage::describe_model(*model.model, /*with_hash=*/false);
  rc.info.seed = settings.generation.sampling.seed;
  rc.info.settings_json = storage::settings_json(ModelOptions{}, settings.generation,
                                                 settings.cache.offload ? &config : nullptr);
  if (!settings.cache.offload) rc.simulated = simulated_policies(model, settings.cache, config);
  return rc;
}

}  // namespace

storage::SessionConfig session_config(const LoadedModel& model, const RunSettings& settings) {
  storage::SessionConfig out;
  const offload::OffloadConfig config = offload_config(settings.cache, model.shape);
  const bool recording = !settings.trace_path.isEmpty();
  if (recording) out.recording = recording_config(model, settings, config);
  if (settings.cache.offload) {
    out.offload = config;
    // A recorded run keeps the compared policies as the store's shadows (the analysis replays
    // them anyway for a live view).
    if (recording) {
      for (const QString& spec : settings.cache.compare) {
        if (spec != settings.cache.policy && !is_history_policy(spec))
          out.offload->compare.push_back({spec.toStdString(), config.prefetcher});
      }
    }
  }
  return out;
}

}  // namespace moescope::views
