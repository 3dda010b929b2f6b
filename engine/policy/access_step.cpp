#include "engine/policy/access_step.h"

#include "engine/common/error.h"

namespace moescope::policy {

const StepInput& StepBuilder::make_step(TokenPos first_token, MoeLayerId layer, Phase phase,
                                        std::span<const TokenLayerRouting> routing,
                                        int32_t n_experts, int64_t compute_ns) {
  if (seen_.size() < size_t(n_experts)) seen_.resize(size_t(n_experts), 0);
  experts_.clear();
  for (const TokenLayerRouting& token : routing) {
    for (ExpertId e : token.experts) {
      if (e.value < 0 || e.value >= n_experts) {
        for (ExpertId x : experts_) seen_[size_t(x.value)] = 0;
        fail("layer {} has no expert {}", layer.value, e.value);
      }
      if (seen_[size_t(e.value)]) continue;
      seen_[size_t(e.value)] = 1;
      experts_.push_back(e);
    }
  }
  for (ExpertId e : experts_) seen_[size_t(e.value)] = 0;  // O(k), not O(n_experts), per step
  step_ =
      StepInput{first_token, int32_t(routing.size()), layer, phase, experts_, routing, compute_ns};
  return step_;
}

const StepInput& StepBuilder::trace_step(const RoutingTrace& trace, TokenPos first_token,
                                         int32_t n_tokens, MoeLayerId layer, Phase phase,
                                         int64_t compute_ns) {
  routing_.clear();
  for (int32_t u = 0; u < n_tokens; ++u)
    routing_.push_back(trace.routing(TokenPos(first_token.value + u), layer));
  return make_step(first_token, layer, phase, routing_, trace.shape.n_experts[size_t(layer.value)],
                   compute_ns);
}

}  // namespace moescope::policy
