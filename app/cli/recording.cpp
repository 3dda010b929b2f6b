#include "app/cli/recording.h"

#include "storage/run_info.h"
#include "storage/trace_reader.h"

namespace moescope::cli {

storage::RecordingConfig base_recording_config(const std::filesystem::path& trace,
                                               const std::string& label, bool router_logits,
                                               const OffloadRequest& offload, const Model& model,
                                               const std::string& model_path, uint64_t seed) {
  storage::RecordingConfig rc;
  rc.trace = trace;
  rc.router_logits = router_logits || (offload.config && offload.config->router_probs);
  rc.info.label = label;
  rc.info.model = storage::describe_model(model);
  rc.info.model.path = std::filesystem::absolute(model_path).string();
  rc.info.seed = seed;
  return rc;
}

RecordedRun describe_recording(const storage::SessionRecording& recording,
                               const offload::ExpertStore& store) {
  RecordedRun out;
  out.run = recording.run;
  out.path = recording.trace.string();
  storage::TraceReader reader(recording.trace);
  for (const storage::LayerAggregate& l : reader.layer_aggregates(out.run))
    out.routing_entries += l.activations;
  for (const storage::RunSummary& r : reader.runs()) {
    if (r.id == out.run) out.forwarded = r.n_forwarded;
  }
  auto add = [&](int32_t id, const char* role, const std::string& spec,
                 const std::string& prefetcher, const policy::CacheReport& live) {
    QJsonObject p{{"id", id},
                  {"role", role},
                  {"spec", QString::fromStdString(spec)},
                  {"prefetcher", QString::fromStdString(prefetcher)},
                  {"live", cache_report_json(live)}};
    out.policies.append(p);
  };
  const policy::CacheReport live = store.decisions();
  add(recording.primary_policy, "primary", live.policy, live.prefetcher, live);
  const std::vector<policy::ShadowResult> shadows = store.shadow_results();
  for (size_t i = 0; i < shadows.size() && i < recording.shadow_policies.size(); ++i) {
    add(recording.shadow_policies[i], shadows[i].oracle ? "oracle" : "shadow", shadows[i].policy,
        shadows[i].prefetcher, shadows[i].report);
  }
  return out;
}

QJsonObject cache_counters_json(const policy::CacheCounters& c) {
  return QJsonObject{{"accesses", qint64(c.accesses)},
                     {"hits", qint64(c.hits)},
                     {"misses", qint64(c.misses)},
                     {"bypasses", qint64(c.bypasses)},
                     {"evictions", qint64(c.evictions)},
                     {"bytes_loaded", qint64(c.bytes_loaded)},
                     {"prefetch_predicted", qint64(c.prefetch_predicted)},
                     {"prefetch_correct", qint64(c.prefetch_correct)},
                     {"prefetch_routed", qint64(c.prefetch_routed)},
                     {"prefetch_issued", qint64(c.prefetch_issued)},
                     {"prefetch_bytes", qint64(c.prefetch_bytes)},
                     {"prefetch_used", qint64(c.prefetch_used)},
                     {"prefetch_late", qint64(c.prefetch_late)},
                     {"prefetch_wasted", qint64(c.prefetch_wasted)},
                     {"prefetch_wasted_bytes", qint64(c.prefetch_wasted_bytes)},
                     {"stall_ns", qint64(c.stall_ns)},
                     {"hit_rate", c.hit_rate()}};
}

QJsonObject cache_report_json(const policy::CacheReport& report) {
  auto layers = [&](int phase) {
    QJsonArray a;
    for (const policy::CacheCounters& c : report.layer[size_t(phase)])
      a.append(cache_counters_json(c));
    return a;
  };
  return QJsonObject{{"prefill", cache_counters_json(report.phase[0])},
                     {"decode", cache_counters_json(report.phase[1])},
                     {"total", cache_counters_json(report.total())},
                     {"end_ns", qint64(report.end_ns)},
                     {"layers", QJsonObject{{"prefill", layers(0)}, {"decode", layers(1)}}}};
}

}  // namespace moescope::cli
