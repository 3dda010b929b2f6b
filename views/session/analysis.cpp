#include "views/session/analysis.h"

#include <algorithm>

#include "engine/common/error.h"
#include "engine/policy/access_stream.h"
#include "engine/policy/allocators.h"
#include "engine/policy/policy_factory.h"
#include "engine/policy/prefetcher.h"
#include "engine/policy/simulator.h"

namespace moescope::views {
namespace {

using moescope::ExpertKey;

// Watches the chosen policy's cache: which experts a prefetch brought in and have not been used
// yet, and for how many tokens each expert stayed resident.
class OutcomeListener final : public policy::CacheListener {
 public:
  OutcomeListener(const policy::MoeShape& shape, AnalysisResult& out)
      : prefetched_(size_t(shape.total_experts()), 0),
        demanded_(size_t(shape.total_experts()), 0),
        shape_(shape),
        out_(out),
        since_(size_t(shape.total_experts()), -1) {}

  void on_load(ExpertKey key, bool prefetch, bool admitted) override {
    const size_t k = size_t(shape_.key_index(key));
    if (!prefetch) demanded_[k] = 1;
    if (!admitted) return;
    if (since_[k] < 0) since_[k] = now_;
    prefetched_[k] = prefetch ? 1 : 0;
  }
  void on_evict(ExpertKey key) override {
    const size_t k = size_t(shape_.key_index(key));
    if (since_[k] >= 0) out_.resident_tokens[k] += now_ - since_[k];
    since_[k] = -1;
    prefetched_[k] = 0;
  }
  void finish(int64_t end_token) {
    for (size_t k = 0; k < since_.size(); ++k) {
      if (since_[k] >= 0) out_.resident_tokens[k] += end_token - since_[k];
    }
  }

  int64_t now_ = 0;                  // the token the running step starts at
  std::vector<uint8_t> prefetched_;  // [total experts] brought in by a prefetch, not used yet
  std::vector<uint8_t> demanded_;    // [total experts] demand-loaded during the running step

 private:
  const policy::MoeShape& shape_;
  AnalysisResult& out_;
  std::vector<int64_t> since_;
};

// The chosen policy, replayed step by step as policy::replay does, recording each selection's
// outcome.
policy::CacheReport replay_chosen(const policy::RoutingTrace& trace,
                                  const policy::AccessStream& stream, policy::CacheSimulator& sim,
                                  AnalysisResult& out) {
  const policy::MoeShape& shape = trace.shape;
  OutcomeListener listener(shape, out);
  sim.set_listener(&listener);
  const int32_t L = trace.n_layers();
  std::vector<policy::TokenLayerRouting> routing;
  std::vector<ExpertId> experts;
  std::vector<AccessOutcome> step_outcome;  // [n_experts of the layer]
  std::vector<uint8_t> was_prefetched;      // [step accesses]
  for (const policy::AccessStep& st : stream.steps) {
    routing.clear();
    for (int32_t u = 0; u < st.n_tokens; ++u) {
      routing.push_back(trace.routing(TokenPos(st.first_token.value + u), st.layer));
    }
    experts.clear();
    was_prefetched.clear();
    for (int64_t i = st.begin; i < st.end; ++i) {
      const ExpertKey key = stream.accesses[size_t(i)];
      experts.push_back(key.expert);
      was_prefetched.push_back(listener.prefetched_[size_t(shape.key_index(key))]);
    }
    // The simulator decides hit or miss access by access (a miss may evict an expert the same
    // step uses later): a demand load during the step is what marks a miss.
    listener.now_ = st.first_token.value;
    sim.step({st.first_token, st.n_tokens, st.layer, st.phase, experts, routing, -1});
    step_outcome.assign(size_t(shape.experts(st.layer)), AccessOutcome::kMiss);
    for (int64_t i = st.begin; i < st.end; ++i) {
      const ExpertKey key = stream.accesses[size_t(i)];
      const size_t k = size_t(shape.key_index(key));
      ++out.key_accesses[k];
      if (listener.demanded_[k]) {
        listener.demanded_[k] = 0;
        continue;
      }
      ++out.key_hits[k];
      step_outcome[size_t(key.expert.value)] =
          was_prefetched[size_t(i - st.begin)] ? AccessOutcome::kPrefetchHit : AccessOutcome::kHit;
      listener.prefetched_[k] = 0;
    }
    for (int32_t u = 0; u < st.n_tokens; ++u) {
      const size_t row = size_t(st.first_token.value + u) * size_t(L) + size_t(st.layer.value);
      for (int64_t s = trace.offsets[row]; s < trace.offsets[row + 1]; ++s) {
        out.outcome[size_t(s)] = step_outcome[size_t(trace.selected[size_t(s)].value)];
      }
    }
  }
  listener.finish(trace.n_tokens());
  sim.set_listener(nullptr);
  return sim.report();
}

// The prefetcher of a spec; one that asks for router probes replays the run's recorded ones.
std::unique_ptr<policy::Prefetcher> make_replay_prefetcher(const std::string& spec,
                                                           const GatePredictions* predictions) {
  auto prefetcher = policy::make_prefetcher(spec, {});
  if (prefetcher->inputs().router_probe && predictions) {
    prefetcher->set_probe_source(
        [predictions](policy::PrefetchTarget target, int32_t, std::vector<ExpertId>& out) {
          const auto it = predictions->find({target.token.value, target.layer.value});
          if (it != predictions->end()) out = it->second;
        });
  }
  return prefetcher;
}

PolicyRun run_chosen(const policy::RoutingTrace& trace,
                     const std::shared_ptr<const policy::AccessStream>& stream,
                     const CacheSettings& settings, const GatePredictions* predictions,
                     AnalysisResult& out) {
  PolicyRun run;
  run.role = PolicyRun::Role::kChosen;
  run.spec = settings.policy.toStdString();
  try {
    const policy::PolicySpec spec = policy::parse_policy_spec(run.spec);
    run.spec = spec.text;
    run.oracle = spec.oracle;
    const policy::Budget budget = policy::Budget::slots(out.budget_slots);
    out.capacity =
        policy::make_capacity(spec.pool, budget, trace.shape,
                              policy::parse_allocator(settings.allocator.toStdString()), &trace);
    policy::TimingModel timing;
    timing.link = policy::LinkModel::preset(settings.link.toStdString());
    policy::CacheSimulator sim(
        trace.shape, out.capacity, policy::make_policy(spec, {stream, nullptr}),
        make_replay_prefetcher(settings.prefetcher.toStdString(), predictions), timing, spec.text,
        settings.prefetcher.toStdString());
    run.report = replay_chosen(trace, *stream, sim, out);
  } catch (const Error& e) {
    run.error = e.what();
  }
  return run;
}

PolicyRun run_other(const policy::RoutingTrace& trace,
                    const std::shared_ptr<const policy::AccessStream>& stream,
                    const std::string& spec_text, PolicyRun::Role role,
                    const CacheSettings& settings, const GatePredictions* predictions,
                    uint64_t slots) {
  PolicyRun run;
  run.role = role;
  run.spec = spec_text;
  try {
    const policy::PolicySpec spec = policy::parse_policy_spec(spec_text);
    run.spec = spec.text;
    run.oracle = spec.oracle;
    // As policy::replay does, with the chosen prefetcher (the oracle bounds have none).
    const std::string prefetcher =
        role == PolicyRun::Role::kBound ? "none" : settings.prefetcher.toStdString();
    policy::TimingModel timing;
    timing.link = policy::LinkModel::preset(settings.link.toStdString());
    policy::CacheSimulator sim(
        trace.shape,
        policy::make_capacity(spec.pool, policy::Budget::slots(slots), trace.shape,
                              policy::parse_allocator(settings.allocator.toStdString()), &trace),
        policy::make_policy(spec, {stream, nullptr}),
        make_replay_prefetcher(prefetcher, predictions), timing, spec.text);
    run.report = policy::replay(trace, *stream, sim);
  } catch (const Error& e) {
    run.error = e.what();
  }
  return run;
}

// Whether `ref` is at least as good as `other` at every token from `first` on, cumulatively.
bool dominates_from(const policy::CacheReport& ref, const policy::CacheReport& other,
                    size_t first) {
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

void mark_bounds(const policy::RoutingTrace& trace, std::vector<PolicyRun>& runs) {
  size_t first_decode = 0;
  while (first_decode < trace.phase.size() && trace.phase[first_decode] != policy::Phase::kDecode)
    ++first_decode;
  for (PolicyRun& ref : runs) {
    if (ref.role != PolicyRun::Role::kBound || !ref.error.empty()) continue;
    ref.bound = true;
    for (const PolicyRun& other : runs) {
      if (&other == &ref || !other.error.empty()) continue;
      if (!dominates_from(ref.report, other.report, 0) ||
          !dominates_from(ref.report, other.report, first_decode)) {
        ref.bound = false;
        break;
      }
    }
  }
}

std::vector<std::vector<double>> coactivation(const policy::RoutingTrace& trace) {
  const int32_t L = trace.n_layers();
  std::vector<std::vector<double>> out(static_cast<size_t>(L));
  for (int32_t l = 0; l < L; ++l) {
    const size_t n = size_t(trace.shape.n_experts[size_t(l)]);
    std::vector<double> pair(n * n, 0.0);
    std::vector<double> single(n, 0.0);
    for (int64_t t = 0; t < trace.n_tokens(); ++t) {
      const auto sel = trace.experts(TokenPos(int32_t(t)), LayerId(l));
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

std::shared_ptr<AnalysisResult> analyse(const policy::RoutingTrace& trace,
                                        const CacheSettings& settings,
                                        const GatePredictions* predictions) {
  auto out = std::make_shared<AnalysisResult>();
  out->n_tokens = trace.n_tokens();
  out->settings = settings;
  const policy::MoeShape& shape = trace.shape;
  const size_t n_keys = size_t(shape.total_experts());
  out->budget_slots = budget_slots(settings, shape);
  out->outcome.assign(trace.selected.size(), AccessOutcome::kMiss);
  out->key_accesses.assign(n_keys, 0);
  out->key_hits.assign(n_keys, 0);
  out->resident_tokens.assign(n_keys, 0);

  auto stream = std::make_shared<const policy::AccessStream>(
      policy::AccessStream::build(trace, {kPrefillChunk}));
  out->policies.push_back(run_chosen(trace, stream, settings, predictions, *out));
  for (const QString& spec : settings.compare) {
    if (spec == settings.policy) continue;
    out->policies.push_back(run_other(trace, stream, spec.toStdString(), PolicyRun::Role::kCompared,
                                      settings, predictions, out->budget_slots));
  }
  for (const std::string& spec : bound_policies(settings)) {
    out->policies.push_back(run_other(trace, stream, spec, PolicyRun::Role::kBound, settings,
                                      predictions, out->budget_slots));
  }

  mark_bounds(trace, out->policies);
  out->lru_curves = policy::lru_curves(*stream, shape);
  out->opt_curves = policy::opt_curves(*stream, shape);
  out->stats = policy::routing_stats(trace);
  for (int32_t l = 0; l + 1 < trace.n_layers(); ++l) {
    out->affinity.push_back(policy::affinity_matrix(trace, LayerId(l)));
  }
  out->coactivation = coactivation(trace);
  return out;
}

}  // namespace moescope::views
