#include "views/session/run_settings.h"

#include <algorithm>
#include <cmath>

#include "engine/policy/allocators.h"
#include "engine/policy/policy_factory.h"

namespace moescope::views {

uint64_t budget_slots(const CacheSettings& cache, const policy::MoeShape& shape) {
  const double total = double(shape.total_experts());
  const uint64_t slots =
      uint64_t(std::llround(total * std::clamp(cache.budget_percent, 0, 100) / 100.0));
  return std::clamp<uint64_t>(slots, uint64_t(shape.n_layers()), uint64_t(total));
}

uint64_t budget_bytes(const CacheSettings& cache, const policy::MoeShape& shape) {
  const uint64_t slots = budget_slots(cache, shape);
  if (shape.n_layers() == 0 || shape.total_experts() == 0) return 0;
  return uint64_t(double(slots) / double(shape.total_experts()) * double(shape.total_bytes()));
}

offload::OffloadConfig offload_config(const CacheSettings& cache, const policy::MoeShape& shape) {
  offload::OffloadConfig config;
  config.budget = policy::Budget::slots(budget_slots(cache, shape));
  config.policy = policy::parse_policy_spec(cache.policy.toStdString()).text;
  config.prefetcher = cache.prefetcher.toStdString();
  config.allocator = policy::parse_allocator(cache.allocator.toStdString());
  config.link = policy::LinkModel::preset(cache.link.toStdString());
  // Modelled time from the timing model, as the GUI's replays (and traces without compute
  // times) use it, so the store's counters equal the analysis' exactly.
  config.measured_compute = false;
  if (cache.adaptive_top_k) config.lossy.adaptive_topk = {float(cache.adaptive_threshold)};
  if (cache.cache_aware_substitution) config.lossy.substitute_eps = float(cache.substitute_eps);
  return config;
}

std::vector<std::string> bound_policies(const CacheSettings& cache) {
  if (!cache.bounds) return {};
  const bool global =
      policy::parse_policy_spec(cache.policy.toStdString()).pool == policy::PoolKind::kGlobal;
  const std::string suffix = global ? "-global" : "";
  return {"belady-bypass" + suffix, "sch" + suffix + ":" + std::to_string(std::max(1, cache.sch_window))};
}

}  // namespace moescope::views
