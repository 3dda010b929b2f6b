// The expert store's steps: the MoE block's announcement becomes a step of the access stream;
// the decision core decides it, then the loader makes the physical state follow.
#include <algorithm>
#include <optional>
#include <vector>

#include "engine/common/error.h"
#include "engine/offload/expert_store.h"
#include "engine/policy/access_step.h"

namespace moescope::offload {

void ExpertStore::hint_upcoming(LayerId layer, std::span<const ExpertId> experts) {
  const std::optional<MoeLayerId> moe = layout_.moe_layer(layer);
  if (!moe) fail("block {} has no routed experts to load", layer.value);
  const MoeLayerId m = *moe;
  for (ExpertId e : experts) {
    if (e.value < 0 || e.value >= layout_.n_expert(m)) {
      fail("block {} has no expert {}", layer.value, e.value);
    }
  }
  // The step as the access stream spells it: the chunk's tokens, and its distinct experts in
  // order of first use (for one token: top-k order).
  std::vector<TokenRouting>& tokens = pending_[size_t(layer.value)];
  if (tokens.empty()) {
    // No observer events (the store is used as a bare provider): one token per pass over the
    // layers, the experts in the order given, equal weights.
    if (m.value <= last_hint_layer_ || synthetic_token_ < 0) ++synthetic_token_;
    TokenRouting t{synthetic_token_, {experts.begin(), experts.end()}, {}, {}};
    t.weights.assign(experts.size(), experts.empty() ? 0.0f : 1.0f / float(experts.size()));
    tokens.push_back(std::move(t));
  }
  last_hint_layer_ = m.value;

  std::vector<policy::TokenLayerRouting> routing;
  for (size_t i = 0; i < tokens.size(); ++i) {
    const TokenRouting& t = tokens[i];
    if (t.pos != tokens[0].pos + int32_t(i)) {
      fail("block {} reported routing for positions that are not consecutive", layer.value);
    }
    for (ExpertId e : t.experts) {
      if (e.value < 0 || e.value >= layout_.n_expert(m)) {
        fail("block {} routed a token to expert {}, which does not exist", layer.value, e.value);
      }
    }
    routing.push_back({t.experts, t.weights, t.probs});
  }
  const bool prefill = forward_tokens_ > 1 || tokens.size() > 1;
  policy::StepBuilder builder;
  const policy::StepInput& in = builder.make_step(
      TokenPos(tokens[0].pos), m,
      phase_override_.value_or(prefill ? policy::Phase::kPrefill : policy::Phase::kDecode), routing,
      layout_.n_expert(m));
  bool same = in.experts.size() == experts.size();
  for (ExpertId e : experts) {
    same = same && std::find(in.experts.begin(), in.experts.end(), e) != in.experts.end();
  }
  if (!same) {
    fail("the experts block {} asked for differ from the ones its router selected", layer.value);
  }

  std::unique_lock lock(mu_);
  end_previous_step();
  loader_->begin_step(m, in.first_token.value, in.n_tokens, in.phase, experts);
  try {
    decisions_->begin_step(in);
  } catch (...) {
    // Whatever the decision core did before it failed still has to be mirrored.
    loader_->mirror(*decisions_);
    decisions_->clear_changes();
    tokens.clear();
    throw;
  }
  loader_->mirror(*decisions_);
  decisions_->clear_changes();
  decisions_->begin_shadow_step(in);  // in.routing points into `tokens`
  tokens.clear();
  loader_->start_clock();
}

void ExpertStore::end_previous_step() {
  // The layer has run: its measured compute goes with it into the decisions.
  if (decisions_->in_step()) decisions_->end_step(loader_->step_compute_ns());
  loader_->end_step();
}

}  // namespace moescope::offload
