#include "engine/policy/step_outcomes.h"

#include <algorithm>
#include <optional>

#include "engine/common/error.h"

namespace moescope::policy {

StepOutcomes::StepOutcomes(const MoeShape& shape)
    : shape_(shape),
      prefetched_unused_(size_t(shape.total_experts()), 0),
      prefetch_seq_(size_t(shape.total_experts()), 0) {}

void StepOutcomes::begin_step(const CacheSimulator& sim, const StepInput& in) {
  phase_ = in.phase;
  layer_ = in.layer;
  accesses_.clear();
  // In a prefill chunk the access serves every token routed to the expert; book it on the first.
  for (ExpertId e : in.experts) {
    Access a{e, in.first_token, Outcome::kHit};
    for (size_t u = 0; u < in.routing.size(); ++u) {
      const auto& ex = in.routing[u].experts;
      if (std::find(ex.begin(), ex.end(), e) != ex.end()) {
        a.token = TokenPos(in.first_token.value + int32_t(u));
        break;
      }
    }
    accesses_.push_back(a);
  }
  late_.clear();
  ops_.clear();
  before_ = sim.report().phase[size_t(phase_)];
}

void StepOutcomes::on_load(ExpertKey key, bool prefetch, bool admitted) {
  ops_.push_back({prefetch ? Op::kPrefetch : admitted ? Op::kDemand : Op::kBypassLoad, key});
}

void StepOutcomes::on_evict(ExpertKey key) {
  ops_.push_back({Op::kEvict, key});
}

void StepOutcomes::end_step(const CacheSimulator& sim) {
  const CacheCounters& after = sim.report().phase[size_t(phase_)];
  // Accesses come first in a step (demand loads and their victims), prefetches after.
  struct Use {
    size_t access;
    uint64_t seq;
  };
  std::vector<Use> uses;
  for (size_t i = 0; i < accesses_.size(); ++i) {
    Access& a = accesses_[i];
    const ExpertKey key{layer_, a.expert};
    const size_t k = size_t(shape_.key_index(key));
    const auto load = std::find_if(ops_.begin(), ops_.end(), [&](const Op& op) {
      return op.key == key && (op.kind == Op::kDemand || op.kind == Op::kBypassLoad);
    });
    if (load != ops_.end()) {
      a.outcome = load->kind == Op::kDemand ? Outcome::kMiss : Outcome::kBypass;
    } else if (prefetched_unused_[k]) {
      a.outcome = Outcome::kPrefetchHit;
      prefetched_unused_[k] = 0;
      uses.push_back({i, prefetch_seq_[k]});
    }
  }
  // The simulator knows how many of the uses waited for their load: the latest issued ones.
  const int64_t late = after.prefetch_late - before_.prefetch_late;
  if (late > 0) {
    std::sort(uses.begin(), uses.end(), [](const Use& a, const Use& b) { return a.seq > b.seq; });
    for (int64_t i = 0; i < late && size_t(i) < uses.size(); ++i) {
      accesses_[uses[size_t(i)].access].outcome = Outcome::kLateHit;
      late_.push_back(uses[size_t(i)].access);
    }
  }
  for (Op& op : ops_) {
    const size_t k = size_t(shape_.key_index(op.key));
    switch (op.kind) {
      case Op::kEvict:
        op.wasted = prefetched_unused_[k] != 0;
        prefetched_unused_[k] = 0;
        break;
      case Op::kPrefetch:
        prefetched_unused_[k] = 1;
        prefetch_seq_[k] = next_seq_++;
        break;
      case Op::kDemand:
      case Op::kBypassLoad:
        prefetched_unused_[k] = 0;
        break;
    }
  }
  stall_ns_ = after.stall_ns - before_.stall_ns;
}

void StepOutcomes::step(CacheSimulator& sim, const StepInput& in) {
  begin_step(sim, in);
  sim.step(in);
  end_step(sim);
}

const CacheReport& replay_with_outcomes(const RoutingTrace& trace, const AccessStream& stream,
                                        CacheSimulator& sim, const StepCallback& on_step) {
  if (!(trace.shape.n_experts == sim.shape().n_experts))
    fail("the trace's expert layout does not match the simulated cache");
  std::optional<StepOutcomes> outcomes;
  if (on_step) {
    outcomes.emplace(sim.shape());
    sim.set_listener(&*outcomes);
  }
  std::vector<TokenLayerRouting> routing;
  std::vector<ExpertId> experts;
  const int32_t L = trace.n_layers();
  for (const AccessStep& st : stream.steps) {
    routing.clear();
    int64_t compute = trace.compute_ns.empty() ? -1 : 0;
    for (int32_t u = 0; u < st.n_tokens; ++u) {
      const TokenPos t(st.first_token.value + u);
      routing.push_back(trace.routing(t, st.layer));
      if (compute >= 0) compute += trace.compute_ns[size_t(t.value) * L + st.layer.value];
    }
    experts.clear();
    for (int64_t i = st.begin; i < st.end; ++i)
      experts.push_back(stream.accesses[size_t(i)].expert);
    const StepInput in{st.first_token, st.n_tokens, st.layer, st.phase, experts, routing, compute};
    if (!outcomes) {
      sim.step(in);
      continue;
    }
    outcomes->step(sim, in);
    on_step(in, *outcomes);
  }
  if (outcomes) sim.set_listener(nullptr);
  return sim.report();
}

}  // namespace moescope::policy
