#include "storage/synthetic_recording.h"

#include <cmath>

#include <fmt/format.h>

#include "engine/policy/policy_factory.h"
#include "storage/trace_observer.h"

namespace moescope::storage {

void play_routing_trace(TraceWriter& writer, const policy::RoutingTrace& trace,
                        int32_t prefill_chunk) {
  TraceObserver observer(writer);
  const auto n = int32_t(trace.n_tokens());
  const int32_t L = trace.n_layers();
  std::vector<float> logits;
  int32_t t = 0;
  while (t < n) {
    int32_t end = t + 1;
    if (trace.phase[size_t(t)] == policy::Phase::kPrefill) {
      while (end < n && trace.phase[size_t(end)] == policy::Phase::kPrefill &&
             (prefill_chunk == 0 || end - t < prefill_chunk))
        ++end;
    }
    for (int32_t u = t; u < end; ++u) {
      const int32_t id = trace.token_id.empty() ? u : trace.token_id[size_t(u)];
      writer.token(u, id, fmt::format("<{}>", id));
    }
    observer.on_forward_begin(TokenPos(t), end - t);
    for (int32_t l = 0; l < L; ++l) {
      logits.assign(size_t(trace.shape.n_experts[size_t(l)]), -30.0f);
      for (int32_t u = t; u < end; ++u) {
        const policy::TokenLayerRouting r = trace.routing(TokenPos(u), MoeLayerId(l));
        for (size_t i = 0; i < r.experts.size(); ++i) {
          logits[size_t(r.experts[i].value)] = std::log(std::max(r.weights[i], 1e-12f));
        }
        observer.on_routing(MoeRoutingEvent{trace.shape.block(MoeLayerId(l)),
                                            TokenPos(u),
                                            {},
                                            logits,
                                            r.experts,
                                            r.weights,
                                            r.weights});
        for (ExpertId e : r.experts) logits[size_t(e.value)] = -30.0f;
      }
    }
    observer.on_forward_end();
    t = end;
  }
}

int64_t write_synthetic_trace(const std::filesystem::path& path, const SyntheticRecording& what) {
  const policy::RoutingTrace trace = policy::synthetic_trace(what.spec);
  TraceWriter writer(path, what.writer);
  RunInfo info;
  info.label = fmt::format("synthetic {} tokens", what.spec.n_tokens);
  info.model.path = "(synthetic)";
  info.model.architecture = "synthetic";
  info.model.quantization = "{}";
  info.model.n_model_layers = trace.n_layers();
  info.model.shape = trace.shape;
  info.seed = what.spec.seed;
  info.settings_json = fmt::format(R"({{"synthetic":{{"layers":{},"experts":{},"top_k":{}}}}})",
                                   what.spec.n_layers, what.spec.n_experts, what.spec.top_k);
  const int64_t run = writer.begin_run(info);
  if (!what.policy.empty()) {
    PolicyDescription d;
    d.primary = true;
    d.spec = what.policy;
    d.prefetcher = "none";
    d.capacity = policy::parse_policy_spec(what.policy).pool == policy::PoolKind::kGlobal
                     ? policy::CacheCapacity::global_slots(uint64_t(what.slots_per_layer) *
                                                           uint64_t(trace.n_layers()))
                     : policy::CacheCapacity::uniform(trace.n_layers(), what.slots_per_layer);
    writer.simulate_policy(d, {}, true);
  }
  play_routing_trace(writer, trace, what.prefill_chunk);
  writer.finish_run();
  return run;
}

}  // namespace moescope::storage
