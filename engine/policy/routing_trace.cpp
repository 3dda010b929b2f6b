#include "engine/policy/routing_trace.h"

#include <cmath>

#include "engine/common/error.h"

namespace moescope::policy {

namespace {
constexpr int64_t kMaxTokens = int64_t{1} << 26;

void check_layer_routing(const MoeShape& shape, int64_t t, int32_t l,
                         std::span<const ExpertId> experts, std::span<const float> weights) {
  const int32_t n = shape.n_experts[l];
  if (experts.size() > size_t(n))
    fail("token {} layer {} selects {} experts but the layer has {}", t, l, experts.size(), n);
  if (weights.size() != experts.size())
    fail("token {} layer {} has {} experts but {} weights", t, l, experts.size(), weights.size());
  for (size_t i = 0; i < experts.size(); ++i) {
    const int32_t e = experts[i].value;
    if (e < 0 || e >= n) fail("token {} layer {} selects expert {} of {}", t, l, e, n);
    for (size_t j = 0; j < i; ++j)
      if (experts[j] == experts[i]) fail("token {} layer {} selects expert {} twice", t, l, e);
    if (!std::isfinite(weights[i])) fail("token {} layer {} has a non-finite weight", t, l);
  }
}

void check_probs(int64_t t, int32_t l, std::span<const float> probs) {
  for (float p : probs)
    if (!std::isfinite(p) || p < 0.0f)
      fail("token {} layer {} has a router probability that is negative or not finite", t, l);
}
}  // namespace

const char* phase_name(Phase phase) {
  return phase == Phase::kPrefill ? "prefill" : "decode";
}

TokenLayerRouting RoutingTrace::routing(TokenPos t, MoeLayerId l) const {
  const size_t i = size_t(t.value) * size_t(n_layers()) + size_t(l.value);
  TokenLayerRouting r;
  r.experts = {selected.data() + offsets[i], selected.data() + offsets[i + 1]};
  r.weights = {weights.data() + offsets[i], weights.data() + offsets[i + 1]};
  if (!probs.empty()) {
    // A token's probabilities are laid out like the dense key index: layers concatenated.
    const size_t stride = size_t(shape.total_experts());
    r.probs = {probs.data() + size_t(t.value) * stride + shape.key_index({l, ExpertId(0)}),
               size_t(shape.n_experts[l.value])};
  }
  return r;
}

void RoutingTrace::validate() {
  shape.validate();
  const int64_t n = n_tokens();
  const int32_t L = n_layers();
  if (n > kMaxTokens) fail("the routing trace has {} tokens, more than {}", n, kMaxTokens);
  if (!token_id.empty() && int64_t(token_id.size()) != n)
    fail("the routing trace has {} tokens but {} token ids", n, token_id.size());
  if (int64_t(offsets.size()) != n * L + 1)
    fail("the routing trace has {} offsets, expected {}", offsets.size(), n * L + 1);
  if (offsets[0] != 0 || offsets.back() != int64_t(selected.size()) ||
      selected.size() != weights.size())
    fail("the routing trace's offsets do not match its {} selections and {} weights",
         selected.size(), weights.size());
  for (size_t i = 0; i + 1 < offsets.size(); ++i)
    if (offsets[i + 1] < offsets[i]) fail("the routing trace's offsets decrease at {}", i);
  const size_t stride = size_t(shape.total_experts());
  if (!probs.empty() && probs.size() != size_t(n) * stride)
    fail("the routing trace has {} router probabilities, expected {}", probs.size(),
         size_t(n) * stride);
  if (!compute_ns.empty() && int64_t(compute_ns.size()) != n * L)
    fail("the routing trace has {} compute times, expected {}", compute_ns.size(), n * L);
  for (int64_t c : compute_ns)
    if (c < 0) fail("the routing trace has a negative compute time");
  for (Phase p : phase)
    if (p != Phase::kPrefill && p != Phase::kDecode) fail("the routing trace has an unknown phase");
  for (int64_t t = 0; t < n; ++t) {
    for (int32_t l = 0; l < L; ++l) {
      const TokenLayerRouting r = routing(TokenPos(int32_t(t)), MoeLayerId(l));
      check_layer_routing(shape, t, l, r.experts, r.weights);
      check_probs(t, l, r.probs);
    }
  }
}

RoutingTraceBuilder::RoutingTraceBuilder(MoeShape shape, bool with_probs)
    : with_probs_(with_probs) {
  shape.validate();
  trace_.shape = std::move(shape);
  trace_.offsets.push_back(0);
  next_layer_ = trace_.n_layers();
}

void RoutingTraceBuilder::begin_token(Phase phase, int32_t token_id) {
  if (next_layer_ != trace_.n_layers())
    fail("token {} got {} of {} layers before the next token began", trace_.n_tokens() - 1,
         next_layer_, trace_.n_layers());
  if (trace_.n_tokens() >= kMaxTokens) fail("the routing trace is full ({} tokens)", kMaxTokens);
  trace_.phase.push_back(phase);
  trace_.token_id.push_back(token_id);
  has_token_ids_ = has_token_ids_ && token_id >= 0;
  next_layer_ = 0;
}

void RoutingTraceBuilder::add_layer(std::span<const ExpertId> experts,
                                    std::span<const float> weights, std::span<const float> probs) {
  const int64_t t = trace_.n_tokens() - 1;
  if (t < 0 || next_layer_ >= trace_.n_layers())
    fail("add_layer was called without a token to add it to");
  const int32_t l = next_layer_;
  check_layer_routing(trace_.shape, t, l, experts, weights);
  if (with_probs_ != !probs.empty() ||
      (with_probs_ && probs.size() != size_t(trace_.shape.n_experts[l])))
    fail("token {} layer {} has {} router probabilities, expected {}", t, l, probs.size(),
         with_probs_ ? trace_.shape.n_experts[l] : 0);
  check_probs(t, l, probs);
  trace_.selected.insert(trace_.selected.end(), experts.begin(), experts.end());
  trace_.weights.insert(trace_.weights.end(), weights.begin(), weights.end());
  trace_.probs.insert(trace_.probs.end(), probs.begin(), probs.end());
  trace_.offsets.push_back(int64_t(trace_.selected.size()));
  ++next_layer_;
}

RoutingTrace RoutingTraceBuilder::finish() {
  if (next_layer_ != trace_.n_layers())
    fail("the last token got {} of {} layers", next_layer_, trace_.n_layers());
  if (!has_token_ids_) trace_.token_id.clear();
  RoutingTrace out = std::move(trace_);
  trace_ = RoutingTrace{};
  return out;
}

}  // namespace moescope::policy
