#include "views/settings/settings_io.h"

#include <algorithm>

namespace moescope::views {

void save_run_settings(QSettings& s, const RunSettings& r) {
  s.beginGroup("run");
  s.setValue("prompt", r.prompt);
  s.setValue("maxNewTokens", r.generation.max_new_tokens);
  const SamplingParams& sp = r.generation.sampling;
  s.setValue("temperature", sp.temperature);
  s.setValue("topK", sp.top_k);
  s.setValue("topP", sp.top_p);
  s.setValue("minP", sp.min_p);
  s.setValue("repeatPenalty", sp.repeat_penalty);
  s.setValue("seed", QVariant::fromValue<qulonglong>(sp.seed));
  const CacheSettings& c = r.cache;
  s.setValue("offload", c.offload);
  s.setValue("budgetPercent", c.budget_percent);
  s.setValue("policy", c.policy);
  s.setValue("prefetcher", c.prefetcher);
  s.setValue("link", c.link);
  s.setValue("allocator", c.allocator);
  s.setValue("compare", c.compare);
  s.setValue("bounds", c.bounds);
  s.setValue("schWindow", c.sch_window);
  s.setValue("adaptiveTopK", c.adaptive_top_k);
  s.setValue("cacheAwareSubstitution", c.cache_aware_substitution);
  s.setValue("adaptiveThreshold", c.adaptive_threshold);
  s.setValue("substituteEps", c.substitute_eps);
  s.setValue("tracePath", r.trace_path);
  s.endGroup();
}

RunSettings load_run_settings(const QSettings& s, const RunSettings& d) {
  RunSettings r = d;
  auto get = [&s](const char* key, const QVariant& fallback) {
    return s.value(QStringLiteral("run/") + key, fallback);
  };
  r.prompt = get("prompt", d.prompt).toString();
  r.generation.max_new_tokens =
      std::clamp(get("maxNewTokens", d.generation.max_new_tokens).toInt(), -1, 100000);
  SamplingParams& sp = r.generation.sampling;
  const SamplingParams& dp = d.generation.sampling;
  sp.temperature = std::clamp(get("temperature", dp.temperature).toFloat(), 0.0f, 5.0f);
  sp.top_k = std::clamp(get("topK", dp.top_k).toInt(), 0, 100000);
  sp.top_p = std::clamp(get("topP", dp.top_p).toFloat(), 0.0f, 1.0f);
  sp.min_p = std::clamp(get("minP", dp.min_p).toFloat(), 0.0f, 1.0f);
  sp.repeat_penalty = std::clamp(get("repeatPenalty", dp.repeat_penalty).toFloat(), 0.01f, 10.0f);
  sp.seed = get("seed", QVariant::fromValue<qulonglong>(dp.seed)).toULongLong();
  CacheSettings& c = r.cache;
  c.offload = get("offload", d.cache.offload).toBool();
  c.budget_percent = std::clamp(get("budgetPercent", d.cache.budget_percent).toInt(), 1, 100);
  c.policy = get("policy", d.cache.policy).toString();
  c.prefetcher = get("prefetcher", d.cache.prefetcher).toString();
  c.link = get("link", d.cache.link).toString();
  c.allocator = get("allocator", d.cache.allocator).toString();
  c.compare = get("compare", d.cache.compare).toStringList();
  c.bounds = get("bounds", d.cache.bounds).toBool();
  c.sch_window = std::clamp(get("schWindow", d.cache.sch_window).toInt(), 1, 4096);
  c.adaptive_top_k = get("adaptiveTopK", d.cache.adaptive_top_k).toBool();
  c.cache_aware_substitution =
      get("cacheAwareSubstitution", d.cache.cache_aware_substitution).toBool();
  c.adaptive_threshold =
      std::clamp(get("adaptiveThreshold", d.cache.adaptive_threshold).toDouble(), 0.01, 0.99);
  c.substitute_eps = std::clamp(get("substituteEps", d.cache.substitute_eps).toDouble(), 0.0, 1.0);
  r.trace_path = get("tracePath", d.trace_path).toString();
  return r;
}

}  // namespace moescope::views
