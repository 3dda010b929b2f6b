#include "engine/model/routing.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace moescope {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// Index of the largest value not yet taken; strict comparison keeps the lowest index on ties.
int64_t best_untaken(const float* v, const uint8_t* taken, int64_t n) {
  int64_t best = -1;
  for (int64_t i = 0; i < n; ++i) {
    if (taken[i]) continue;
    if (best < 0 || v[i] > v[best]) best = i;
  }
  return best;
}

// DeepSeek-V3 group-limited routing: a group's score is the sum of its two best selection scores;
// experts outside the n_group_used best groups get -inf.
void mask_groups(const RoutingParams& p, float* selection, uint8_t* taken) {
  const int64_t per_group = p.n_expert / p.n_groups;
  float group_score[512];  // n_groups < n_expert <= 512
  for (int64_t g = 0; g < p.n_groups; ++g) {
    const float* s = selection + g * per_group;
    std::fill(taken, taken + per_group, 0);
    const int64_t first = best_untaken(s, taken, per_group);
    float sum = s[first];
    if (per_group > 1) {
      taken[first] = 1;
      sum += s[best_untaken(s, taken, per_group)];
    }
    group_score[g] = sum;
  }
  std::fill(taken, taken + p.n_groups, 0);
  for (int64_t i = 0; i < p.n_group_used; ++i) {
    taken[best_untaken(group_score, taken, p.n_groups)] = 1;
  }
  for (int64_t g = 0; g < p.n_groups; ++g) {
    if (taken[g]) continue;
    std::fill(selection + g * per_group, selection + (g + 1) * per_group, kNegInf);
  }
}

}  // namespace

RoutingParams routing_params(const ModelHParams& hp) {
  RoutingParams p;
  p.n_expert = hp.n_expert;
  p.n_used = hp.n_expert_used;
  p.gating = hp.gating;
  p.n_groups = hp.n_expert_groups;
  p.n_group_used = hp.n_group_used;
  p.norm_weights = hp.expert_weights_norm;
  p.weights_scale = hp.expert_weights_scale;
  return p;
}

void softmax_inplace(float* x, int64_t n) {
  float max = kNegInf;
  for (int64_t i = 0; i < n; ++i) max = std::max(max, x[i]);
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = expf(x[i] - max);
    sum += static_cast<double>(x[i]);
  }
  const float inv = static_cast<float>(1.0 / sum);
  for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}

void route_token(const RoutingParams& p, const float* logits, ExpertId* selected, float* weights,
                 float* scores, RoutingScratch& scratch) {
  const int64_t X = p.n_expert;
  scratch.probs.resize(X);
  scratch.selection.resize(X);
  scratch.taken.resize(X);
  float* probs = scratch.probs.data();
  float* selection = scratch.selection.data();
  uint8_t* taken = scratch.taken.data();

  // Gating: router logits -> "probs" (what the weights are taken from).
  std::copy(logits, logits + X, probs);
  switch (p.gating) {
    case GatingFunc::Softmax:
      softmax_inplace(probs, X);
      break;
    case GatingFunc::Sigmoid:
      for (int64_t i = 0; i < X; ++i) probs[i] = 1.0f / (1.0f + expf(-probs[i]));
      break;
    case GatingFunc::SoftmaxWeight:
      break;  // top-k on the raw logits; the selected ones are softmaxed below
    case GatingFunc::SqrtSoftplus:
      for (int64_t i = 0; i < X; ++i) {
        const float x = probs[i];
        probs[i] = sqrtf(x > 20.0f ? x : log1pf(expf(x)));
      }
      break;
  }

  // Selection scores: probs plus the optional selection bias, then group masking.
  for (int64_t i = 0; i < X; ++i) {
    selection[i] = probs[i] + (p.selection_bias != nullptr ? p.selection_bias[i] : 0.0f);
  }
  if (p.n_groups > 1) mask_groups(p, selection, taken);

  // Top-k, best first.
  std::fill(taken, taken + X, 0);
  for (int64_t j = 0; j < p.n_used; ++j) {
    const int64_t e = best_untaken(selection, taken, X);
    taken[e] = 1;
    selected[j] = ExpertId(static_cast<int32_t>(e));
    scores[j] = selection[e];
    weights[j] = probs[e];
  }

  if (p.gating == GatingFunc::SoftmaxWeight) softmax_inplace(weights, p.n_used);
  if (p.norm_weights) {
    double sum = 0.0;
    for (int64_t j = 0; j < p.n_used; ++j) sum += static_cast<double>(weights[j]);
    // Clamped to the smallest normal half so that all-zero weights do not divide by zero.
    const float denom = std::max(static_cast<float>(sum), 6.103515625e-5f);
    for (int64_t j = 0; j < p.n_used; ++j) weights[j] /= denom;
  }
  if (p.weights_scale != 0.0f && p.weights_scale != 1.0f) {
    for (int64_t j = 0; j < p.n_used; ++j) weights[j] *= p.weights_scale;
  }
}

}  // namespace moescope
