#include "engine/model/routing_trace_recorder.h"

#include <algorithm>
#include <cmath>

#include "engine/common/error.h"
#include "engine/model/model.h"
#include "engine/model/routing.h"

namespace moescope {

policy::MoeShape routed_expert_shape(const Model& model) {
  policy::MoeShape shape;
  const std::vector<LayerExpertTensors>& layers = model.expert_tensors();
  for (size_t il = 0; il < layers.size(); ++il) {
    const int64_t n_expert = layers[il].n_expert();
    if (n_expert <= 0) continue;
    shape.n_experts.push_back(static_cast<int32_t>(n_expert));
    shape.top_k.push_back(static_cast<int32_t>(model.hparams().n_expert_used));
    shape.expert_bytes.push_back(layers[il].packed_bytes());
    shape.model_layer.push_back(static_cast<int32_t>(il));
  }
  if (shape.n_experts.empty()) {
    fail("{}: the model has no routed experts, so it has no routing to record",
         model.file().path().string());
  }
  shape.validate();
  return shape;
}

void router_distribution(GatingFunc gating, std::span<const float> logits, std::span<float> probs) {
  if (probs.size() != logits.size()) {
    fail("internal: {} router probabilities for {} logits", probs.size(), logits.size());
  }
  std::copy(logits.begin(), logits.end(), probs.begin());
  if (gating == GatingFunc::Softmax || gating == GatingFunc::SoftmaxWeight) {
    softmax_inplace(probs.data(), static_cast<int64_t>(probs.size()));
    return;
  }
  double sum = 0.0;
  for (float& p : probs) {
    if (gating == GatingFunc::Sigmoid) {
      p = 1.0f / (1.0f + std::exp(-p));
    } else {  // SqrtSoftplus; log1p(exp(x)) overflows for large x, where it equals x
      p = std::sqrt(p > 20.0f ? p : std::log1p(std::exp(p)));
    }
    sum += p;
  }
  if (sum > 0.0) {
    for (float& p : probs) p = static_cast<float>(p / sum);
  }
}

RoutingTraceRecorder::RoutingTraceRecorder(const Model& model, bool with_probs)
    : shape_(routed_expert_shape(model)),
      gating_(model.hparams().gating),
      with_probs_(with_probs),
      builder_(shape_, with_probs) {
  int64_t base = 0;
  for (int32_t m = 0; m < shape_.n_layers(); ++m) {
    probs_base_.push_back(base);
    base += shape_.n_experts[m];
  }
  k_max_ = std::max(1, *std::max_element(shape_.top_k.begin(), shape_.top_k.end()));
}

void RoutingTraceRecorder::describe_next_forward(std::span<const int32_t> tokens,
                                                 std::optional<policy::Phase> phase) {
  next_tokens_.assign(tokens.begin(), tokens.end());
  next_phase_ = phase;
}

void RoutingTraceRecorder::on_forward_begin(TokenPos first, int n_tokens) {
  first_ = first.value;
  n_ = n_tokens;
  tokens_.swap(next_tokens_);
  next_tokens_.clear();
  if (!tokens_.empty() && static_cast<int>(tokens_.size()) != n_tokens) {
    fail("the routing recorder was told of {} tokens but the forward call has {}", tokens_.size(),
         n_tokens);
  }
  phase_ = next_phase_;
  next_phase_.reset();
  const size_t rows = static_cast<size_t>(n_tokens) * static_cast<size_t>(shape_.n_layers());
  experts_.resize(rows * static_cast<size_t>(k_max_));
  weights_.resize(rows * static_cast<size_t>(k_max_));
  count_.assign(rows, -1);
  if (with_probs_) probs_.resize(static_cast<size_t>(n_tokens) * shape_.total_experts());
}

void RoutingTraceRecorder::on_routing(const MoeRoutingEvent& event) {
  const int32_t il = event.layer.value;
  const std::optional<MoeLayerId> moe = shape_.moe_layer(event.layer);
  const int32_t m = moe ? moe->value : -1;
  const int64_t t = static_cast<int64_t>(event.pos.value) - first_;
  if (m < 0 || t < 0 || t >= n_) {
    fail("routing event for layer {} position {} is outside the forward call (positions {}..{})",
         il, event.pos.value, first_, first_ + n_ - 1);
  }
  if (event.experts.size() > static_cast<size_t>(k_max_) ||
      event.weights.size() != event.experts.size()) {
    fail(
        "routing event for layer {} position {} has {} experts and {} weights; expected at most "
        "{}",
        il, event.pos.value, event.experts.size(), event.weights.size(), k_max_);
  }
  const size_t row = static_cast<size_t>(t) * static_cast<size_t>(shape_.n_layers()) + size_t(m);
  std::copy(event.experts.begin(), event.experts.end(), experts_.begin() + row * k_max_);
  std::copy(event.weights.begin(), event.weights.end(), weights_.begin() + row * k_max_);
  count_[row] = static_cast<int32_t>(event.experts.size());
  if (with_probs_) {
    const size_t n_expert = static_cast<size_t>(shape_.n_experts[m]);
    if (event.router_logits.size() != n_expert) {
      fail("routing event for layer {} has {} router logits for {} experts", il,
           event.router_logits.size(), n_expert);
    }
    float* probs = probs_.data() + static_cast<size_t>(t) * shape_.total_experts() + probs_base_[m];
    router_distribution(gating_, event.router_logits, {probs, n_expert});
  }
}

void RoutingTraceRecorder::on_forward_end() {
  const int32_t L = shape_.n_layers();
  const policy::Phase phase =
      phase_.value_or(n_ > 1 ? policy::Phase::kPrefill : policy::Phase::kDecode);
  for (int t = 0; t < n_; ++t) {
    builder_.begin_token(phase, tokens_.empty() ? -1 : tokens_[t]);
    for (int32_t m = 0; m < L; ++m) {
      const size_t row = static_cast<size_t>(t) * static_cast<size_t>(L) + static_cast<size_t>(m);
      if (count_[row] < 0) {
        fail("the forward pass reported no routing for position {} at layer {}", first_ + t,
             shape_.block(MoeLayerId(m)).value);
      }
      const size_t at = row * static_cast<size_t>(k_max_);
      std::span<const float> probs;
      if (with_probs_) {
        probs = {probs_.data() + static_cast<size_t>(t) * shape_.total_experts() + probs_base_[m],
                 static_cast<size_t>(shape_.n_experts[m])};
      }
      builder_.add_layer({experts_.data() + at, static_cast<size_t>(count_[row])},
                         {weights_.data() + at, static_cast<size_t>(count_[row])}, probs);
    }
    ++n_tokens_;
  }
  n_ = 0;
}

policy::RoutingTrace RoutingTraceRecorder::finish() {
  policy::RoutingTrace trace = builder_.finish();
  builder_ = policy::RoutingTraceBuilder(shape_, with_probs_);
  n_tokens_ = 0;
  return trace;
}

}  // namespace moescope
