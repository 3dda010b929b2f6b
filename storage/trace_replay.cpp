#include "storage/trace_replay.h"

#include <algorithm>
#include <memory>

#include <fmt/format.h>

#include "engine/common/error.h"
#include "engine/policy/access_step.h"
#include "engine/policy/policy_factory.h"
#include "engine/policy/prefetcher.h"
#include "engine/policy/simulator.h"

namespace moescope::storage {

policy::AccessStream recorded_access_stream(const policy::RoutingTrace& trace,
                                            std::span<const int32_t> forward_calls) {
  policy::AccessStream s;
  const int64_t n = trace.n_tokens();
  s.accesses.reserve(trace.selected.size());
  policy::StepBuilder builder;
  size_t next_call = 0;
  int64_t t = 0;
  while (t < n) {
    // This call runs [t, end): up to the next recorded call start (decode: one token).
    while (next_call < forward_calls.size() && forward_calls[next_call] <= t) ++next_call;
    int64_t end =
        next_call < forward_calls.size() ? std::min<int64_t>(forward_calls[next_call], n) : n;
    if (trace.phase[size_t(t)] == policy::Phase::kDecode) end = t + 1;
    for (int64_t u = t + 1; u < end; ++u) {
      if (trace.phase[size_t(u)] != trace.phase[size_t(t)]) {
        end = u;
        break;
      }
    }
    s.append_chunk(trace, t, end, builder);
    t = end;
  }
  return s;
}

namespace {
bool scores_router_probs(const policy::PolicySpec& spec) {
  return spec.kind == "mrs";
}
}  // namespace

policy::RoutingTrace routing_for_replay(TraceReader& reader, int64_t run, ComputeSource compute,
                                        const std::vector<policy::PolicySpec>& specs,
                                        bool* probs_missing) {
  if (probs_missing) *probs_missing = false;
  if (std::any_of(specs.begin(), specs.end(), scores_router_probs)) {
    try {
      return reader.routing_trace(run, {.probs = true, .compute = compute});
    } catch (const Error&) {
      // No router logits in this run (recorded before MoEScope stored them for mrs, or damaged):
      // mrs falls back to the top-k weights, and the mismatch message says so.
      if (probs_missing) *probs_missing = true;
    }
  }
  return reader.routing_trace(run, {.compute = compute});
}

std::string replay_mismatch_cause(TraceReader& reader, int64_t run, const PolicyDescription& d) {
  const policy::PolicySpec spec = policy::parse_policy_spec(d.spec);
  bool missing = false;
  if (scores_router_probs(spec))
    routing_for_replay(reader, run, ComputeSource::kNone, {spec}, &missing);
  if (missing) {
    return fmt::format(
        "{} scores the router probabilities, and run {} recorded no router logits, so the replay "
        "used the top-k weights instead (record with --router-logits; MoEScope records them "
        "whenever an mrs policy runs)",
        d.spec, run);
  }
  return "";  // nothing specific to the policy: the run-level reason applies
}

policy::CacheReport replay_recorded_policy(TraceReader& reader, int64_t run, int32_t policy_id,
                                           const policy::RoutingTrace* history) {
  const PolicyDescription d = reader.policy(run, policy_id);
  const policy::PolicySpec spec = policy::parse_policy_spec(d.spec);
  const policy::RoutingTrace trace = routing_for_replay(
      reader, run, d.measured_compute ? ComputeSource::kCache : ComputeSource::kNone, {spec});
  const std::vector<int32_t> calls = reader.forward_calls(run);
  auto stream = std::make_shared<policy::AccessStream>(recorded_access_stream(trace, calls));
  if (spec.needs_history && history == nullptr) {
    fail("policy '{}' of run {} was fitted on an earlier trace: replaying it needs that trace",
         d.spec, run);
  }
  d.capacity.validate(trace.shape);
  std::unique_ptr<policy::Prefetcher> prefetcher = policy::make_prefetcher(d.prefetcher, {history});
  if (prefetcher->inputs().router_probe) {
    // The engine's probes, as the run recorded them (none recorded: it predicts nothing).
    auto predicted = std::make_shared<const GatePredictionMap>(reader.gate_prediction_map(run));
    prefetcher->set_probe_source(
        [predicted](policy::PrefetchTarget target, int32_t, std::vector<ExpertId>& out) {
          auto it = predicted->find(target);
          if (it != predicted->end()) out = it->second;
        });
  }
  policy::CacheSimulator sim(trace.shape, d.capacity, policy::make_policy(spec, {stream, history}),
                             std::move(prefetcher), d.timing, d.report_policy, d.report_prefetcher);
  return policy::replay(trace, *stream, sim);
}

}  // namespace moescope::storage
