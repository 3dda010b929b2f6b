#include "engine/placement/expert_statistics.h"

namespace moescope::placement {

ExpertStatistics gather_statistics(const RoutingSource& source, TokenSpan span,
                                   bool with_transitions) {
  ExpertStatistics s;
  s.n_experts = source.n_experts();
  const int32_t layers = source.n_layers();
  for (int32_t l = 0; l < layers; ++l) {
    s.load.emplace_back(size_t(s.n_experts[size_t(l)]), 0.0);
    if (with_transitions && l + 1 < layers)
      s.transitions.emplace_back(size_t(s.n_experts[size_t(l)]) * size_t(s.n_experts[size_t(l + 1)]),
                                 0.0);
  }
  source.visit(span, [&](const TokenRoute& token) {
    ++s.tokens;
    for (int32_t l = 0; l < layers; ++l) {
      const auto here = token.experts(l);
      for (ExpertId e : here) s.load[size_t(l)][size_t(e.value)] += 1;
      if (!with_transitions || l + 1 == layers) continue;
      const auto next = token.experts(l + 1);
      const size_t row = size_t(s.n_experts[size_t(l + 1)]);
      std::vector<double>& a = s.transitions[size_t(l)];
      for (ExpertId i : here)
        for (ExpertId p : next) a[size_t(i.value) * row + size_t(p.value)] += 1;
    }
  });
  return s;
}

}  // namespace moescope::placement
