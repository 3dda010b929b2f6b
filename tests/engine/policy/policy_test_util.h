#pragma once
// Small builders shared by the policy tests.
#include <memory>
#include <string>
#include <vector>

#include "engine/policy/access_stream.h"
#include "engine/policy/policy_factory.h"
#include "engine/policy/prefetcher.h"
#include "engine/policy/routing_trace.h"
#include "engine/policy/simulator.h"

namespace moescope::policy::testing {

// routing[t][l] = experts of token t at layer l (top-k order); every layer has n_experts and the
// largest k seen; all decode unless n_prefill says otherwise.
inline RoutingTrace make_trace(const std::vector<std::vector<std::vector<int>>>& routing,
                               int n_experts, int n_prefill = 0, uint64_t expert_bytes = 1000) {
  const int L = int(routing.at(0).size());
  int k = 1;
  for (const auto& tok : routing)
    for (const auto& layer : tok) k = std::max(k, int(layer.size()));
  RoutingTraceBuilder b(MoeShape::uniform(L, n_experts, k, expert_bytes), false);
  for (size_t t = 0; t < routing.size(); ++t) {
    b.begin_token(int(t) < n_prefill ? Phase::kPrefill : Phase::kDecode);
    for (const auto& layer : routing[t]) {
      std::vector<ExpertId> e;
      std::vector<float> w;
      for (int x : layer) {
        e.push_back(ExpertId(x));
        w.push_back(1.0f / float(layer.size()));
      }
      b.add_layer(e, w);
    }
  }
  return b.finish();
}

// One layer, one expert per token: a classic page-reference string.
inline RoutingTrace reference_string(const std::vector<int>& refs, int n_experts) {
  std::vector<std::vector<std::vector<int>>> r;
  for (int x : refs) r.push_back({{x}});
  return make_trace(r, n_experts);
}

struct RunOptions {
  std::string prefetcher = "none";
  const RoutingTrace* history = nullptr;
  TimingModel timing{};
  StreamOptions stream{};
};

inline CacheReport run(const RoutingTrace& trace, const std::string& policy,
                       const CacheCapacity& capacity, const RunOptions& o = {}) {
  auto stream = std::make_shared<AccessStream>(AccessStream::build(trace, o.stream));
  const PolicySpec spec = parse_policy_spec(policy);
  CacheSimulator sim(trace.shape, capacity, make_policy(spec, {stream, o.history}),
                     make_prefetcher(o.prefetcher, {o.history}), o.timing, spec.text);
  return replay(trace, *stream, sim);
}

// Step st of stream s as a live cache feeds it: its distinct experts and its tokens' routing
// (filled into the caller's vectors, which the returned input points into).
inline StepInput live_step(const RoutingTrace& t, const AccessStream& s, const AccessStep& st,
                           std::vector<TokenLayerRouting>& routing,
                           std::vector<ExpertId>& experts) {
  routing.clear();
  experts.clear();
  for (int32_t u = 0; u < st.n_tokens; ++u)
    routing.push_back(t.routing(TokenPos(st.first_token.value + u), st.layer));
  for (int64_t a = st.begin; a < st.end; ++a) experts.push_back(s.accesses[size_t(a)].expert);
  return {st.first_token, st.n_tokens, st.layer, st.phase, experts, routing};
}

inline int64_t hits(const RoutingTrace& trace, const std::string& policy,
                    const CacheCapacity& capacity, const RunOptions& o = {}) {
  return run(trace, policy, capacity, o).total().hits;
}

}  // namespace moescope::policy::testing

namespace moescope::policy::testing {

// Tokens [begin, end) of a trace as a trace of their own.
inline RoutingTrace slice(const RoutingTrace& t, int64_t begin, int64_t end) {
  RoutingTraceBuilder b(t.shape, t.has_probs());
  for (int64_t u = begin; u < end; ++u) {
    b.begin_token(t.phase[u], t.token_id.empty() ? -1 : t.token_id[u]);
    for (int32_t l = 0; l < t.n_layers(); ++l) {
      const TokenLayerRouting r = t.routing(TokenPos(int32_t(u)), MoeLayerId(l));
      b.add_layer(r.experts, r.weights, r.probs);
    }
  }
  return b.finish();
}

}  // namespace moescope::policy::testing
