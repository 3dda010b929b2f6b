#include "engine/policy/cache_analysis.h"

#include <algorithm>
#include <future>
#include <tuple>
#include <utility>

#include "engine/common/error.h"
#include "engine/policy/access_stream.h"
#include "engine/policy/allocators.h"
#include "engine/policy/policy_factory.h"
#include "engine/policy/prefetcher.h"
#include "engine/policy/simulator.h"
#include "engine/policy/step_outcomes.h"

namespace moescope::policy {
namespace {

// The chosen policy replayed with outcomes: each selection's outcome, each expert's accesses and
// hits, and for how many tokens each expert stayed resident (from the loads and evictions).
CacheReport replay_chosen(const RoutingTrace& trace, const AccessStream& stream,
                          CacheSimulator& sim, CacheAnalysis& out) {
  const MoeShape& shape = trace.shape;
  const size_t L = size_t(trace.n_layers());
  std::vector<int64_t> since(size_t(shape.total_experts()), -1);  // resident from this token
  std::vector<AnalysisOutcome> step_outcome;                      // [n_experts of the layer]
  replay_with_outcomes(trace, stream, sim, [&](const StepInput& in, const StepOutcomes& step) {
    const int64_t now = in.first_token.value;
    for (const StepOutcomes::Op& op : step.ops()) {
      const size_t k = size_t(shape.key_index(op.key));
      if (op.kind == StepOutcomes::Op::kEvict) {
        if (since[k] >= 0) out.resident_tokens[k] += now - since[k];
        since[k] = -1;
      } else if (op.kind != StepOutcomes::Op::kBypassLoad && since[k] < 0) {
        since[k] = now;
      }
    }
    step_outcome.assign(size_t(shape.experts(in.layer)), AnalysisOutcome::kMiss);
    for (const StepOutcomes::Access& a : step.accesses()) {
      const size_t k = size_t(shape.key_index({in.layer, a.expert}));
      ++out.key_accesses[k];
      if (is_miss(a.outcome)) continue;
      ++out.key_hits[k];
      step_outcome[size_t(a.expert.value)] =
          is_prefetch_hit(a.outcome) ? AnalysisOutcome::kPrefetchHit : AnalysisOutcome::kHit;
    }
    // Every token routed to an expert shares the step's access to it.
    for (int32_t u = 0; u < in.n_tokens; ++u) {
      const size_t row = size_t(in.first_token.value + u) * L + size_t(in.layer.value);
      for (int64_t s = trace.offsets[row]; s < trace.offsets[row + 1]; ++s) {
        out.outcome[size_t(s)] = step_outcome[size_t(trace.selected[size_t(s)].value)];
      }
    }
  });
  for (size_t k = 0; k < since.size(); ++k) {
    if (since[k] >= 0) out.resident_tokens[k] += trace.n_tokens() - since[k];
  }
  return sim.report();
}

// The prefetcher of a spec; one that asks for router probes replays the run's recorded ones.
std::unique_ptr<Prefetcher> make_replay_prefetcher(const std::string& spec,
                                                   const GatePredictions* predictions) {
  auto prefetcher = make_prefetcher(spec, {});
  if (prefetcher->inputs().router_probe && predictions) {
    prefetcher->set_probe_source(
        [predictions](PrefetchTarget target, int32_t, std::vector<ExpertId>& out) {
          const auto it = predictions->find(target);
          if (it != predictions->end()) out = it->second;
        });
  }
  return prefetcher;
}

PolicyRun run_chosen(const RoutingTrace& trace, const std::shared_ptr<const AccessStream>& stream,
                     const AnalysisRequest& request, const GatePredictions* predictions,
                     CacheAnalysis& out) {
  PolicyRun run;
  run.role = PolicyRun::Role::kChosen;
  run.spec = request.policy;
  try {
    const PolicySpec spec = parse_policy_spec(run.spec);
    run.spec = spec.text;
    run.oracle = spec.oracle;
    const Budget budget = Budget::slots(out.budget_slots);
    out.capacity =
        make_capacity(spec.pool, budget, trace.shape, parse_allocator(request.allocator), &trace);
    TimingModel timing;
    timing.link = LinkModel::preset(request.link);
    CacheSimulator sim(trace.shape, out.capacity, make_policy(spec, {stream, nullptr}),
                       make_replay_prefetcher(request.prefetcher, predictions), timing, spec.text,
                       request.prefetcher);
    run.report = replay_chosen(trace, *stream, sim, out);
  } catch (const Error& e) {
    run.error = e.what();
  }
  return run;
}

PolicyRun run_other(const RoutingTrace& trace, const std::shared_ptr<const AccessStream>& stream,
                    const std::string& spec_text, PolicyRun::Role role,
                    const AnalysisRequest& request, const GatePredictions* predictions) {
  PolicyRun run;
  run.role = role;
  run.spec = spec_text;
  try {
    const PolicySpec spec = parse_policy_spec(spec_text);
    run.spec = spec.text;
    run.oracle = spec.oracle;
    // As replay does, with the chosen prefetcher (the oracle bounds have none).
    const std::string prefetcher = role == PolicyRun::Role::kBound ? "none" : request.prefetcher;
    TimingModel timing;
    timing.link = LinkModel::preset(request.link);
    CacheSimulator sim(trace.shape,
                       make_capacity(spec.pool, Budget::slots(request.budget_slots), trace.shape,
                                     parse_allocator(request.allocator), &trace),
                       make_policy(spec, {stream, nullptr}),
                       make_replay_prefetcher(prefetcher, predictions), timing, spec.text);
    run.report = replay(trace, *stream, sim);
  } catch (const Error& e) {
    run.error = e.what();
  }
  return run;
}

// Whether `ref` is at least as good as `other` at every token from `first` on, cumulatively.
bool dominates_from(const CacheReport& ref, const CacheReport& other, size_t first) {
  int64_t hits = 0, bytes = 0, stall = 0;
  const size_t n = std::min(ref.token.size(), other.token.size());
  for (size_t t = first; t < n; ++t) {
    hits += ref.token[t].hits - other.token[t].hits;
    bytes += ref.token[t].bytes_loaded - other.token[t].bytes_loaded;
    stall += ref.token[t].stall_ns - other.token[t].stall_ns;
    if (hits < 0 || bytes > 0 || stall > 0) return false;
  }
  return true;
}

// Marks which kBound runs of `others` are bounds of every other run (the chosen one included).
void mark_bounds(const RoutingTrace& trace, const PolicyRun& chosen,
                 std::vector<PolicyRun>& others) {
  size_t first_decode = 0;
  while (first_decode < trace.phase.size() && trace.phase[first_decode] != Phase::kDecode)
    ++first_decode;
  std::vector<const PolicyRun*> runs = {&chosen};
  for (const PolicyRun& r : others) runs.push_back(&r);
  for (PolicyRun& ref : others) {
    if (ref.role != PolicyRun::Role::kBound || !ref.error.empty()) continue;
    ref.bound = true;
    for (const PolicyRun* other : runs) {
      if (other == &ref || !other->error.empty()) continue;
      if (!dominates_from(ref.report, other->report, 0) ||
          !dominates_from(ref.report, other->report, first_decode)) {
        ref.bound = false;
        break;
      }
    }
  }
}

std::vector<std::vector<double>> coactivation(const RoutingTrace& trace) {
  const int32_t L = trace.n_layers();
  std::vector<std::vector<double>> out(static_cast<size_t>(L));
  for (int32_t l = 0; l < L; ++l) {
    const size_t n = size_t(trace.shape.n_experts[size_t(l)]);
    std::vector<double> pair(n * n, 0.0);
    std::vector<double> single(n, 0.0);
    for (int64_t t = 0; t < trace.n_tokens(); ++t) {
      const auto sel = trace.experts(TokenPos(int32_t(t)), MoeLayerId(l));
      for (ExpertId i : sel) {
        single[size_t(i.value)] += 1;
        for (ExpertId j : sel) {
          if (i != j) pair[size_t(i.value) * n + size_t(j.value)] += 1;
        }
      }
    }
    for (size_t i = 0; i < n; ++i) {
      for (size_t j = 0; j < n; ++j) {
        if (single[i] > 0) pair[i * n + j] /= single[i];
      }
    }
    out[size_t(l)] = std::move(pair);
  }
  return out;
}

}  // namespace

void analyse_cache(const RoutingTrace& trace, const AnalysisRequest& request,
                   const GatePredictions* predictions, CacheAnalysis& out,
                   const AnalysisProgress& progress) {
  auto publish = [&] {
    if (progress) progress(out);
  };
  out.n_tokens = trace.n_tokens();
  const MoeShape& shape = trace.shape;
  const size_t n_keys = size_t(shape.total_experts());
  out.budget_slots = request.budget_slots;
  out.parts = 0;

  // What the first views show: the routing's statistics and what the chosen policy made of it.
  out.stats = routing_stats(trace);
  for (int32_t l = 0; l + 1 < trace.n_layers(); ++l) {
    out.affinity.push_back(affinity_matrix(trace, MoeLayerId(l)));
  }
  out.coactivation = coactivation(trace);
  out.parts |= kAnalysisRouting;

  out.outcome.assign(trace.selected.size(), AnalysisOutcome::kMiss);
  out.key_accesses.assign(n_keys, 0);
  out.key_hits.assign(n_keys, 0);
  out.resident_tokens.assign(n_keys, 0);
  auto stream =
      std::make_shared<const AccessStream>(AccessStream::build(trace, {kAnalysisPrefillChunk}));
  // The parts are independent replays of the same (read-only) stream, so they run side by side:
  // the curves on a second thread while the chosen policy runs alone beside them (the first
  // views wait for nothing else), then every compared policy and bound on a thread of its own.
  // The numbers do not depend on it: each replay has its own simulator and policy.
  auto curves = std::async(std::launch::async, [stream, &shape] {
    return std::make_pair(lru_curves(*stream, shape), opt_curves(*stream, shape));
  });
  out.policies.push_back(run_chosen(trace, stream, request, predictions, out));
  out.parts |= kAnalysisChosen;
  publish();

  // The policies compared with it and the reference oracles.
  std::vector<std::future<PolicyRun>> runs;
  auto start = [&](const std::string& spec, PolicyRun::Role role) {
    runs.push_back(std::async(std::launch::async, [&, spec, role] {
      return run_other(trace, stream, spec, role, request, predictions);
    }));
  };
  for (const std::string& spec : request.compare) {
    if (spec != request.policy) start(spec, PolicyRun::Role::kCompared);
  }
  for (const std::string& spec : request.bounds) start(spec, PolicyRun::Role::kBound);
  std::vector<PolicyRun> others;
  for (std::future<PolicyRun>& run : runs) others.push_back(run.get());
  mark_bounds(trace, out.policies.front(), others);
  for (PolicyRun& r : others) out.policies.push_back(std::move(r));
  out.parts |= kAnalysisPolicies;
  publish();

  std::tie(out.lru_curves, out.opt_curves) = curves.get();
  out.parts |= kAnalysisCurves;
  publish();
}

}  // namespace moescope::policy
