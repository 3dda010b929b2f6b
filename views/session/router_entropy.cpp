#include "views/session/router_entropy.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace moescope::views {

float router_entropy_bits(std::span<const float> logits, GatingFunc gating) {
  if (logits.empty()) return std::numeric_limits<float>::quiet_NaN();
  // Scores s_i >= 0 up to a common factor; p_i = s_i / sum s.
  auto score = [&](float x) -> double {
    switch (gating) {
      case GatingFunc::Sigmoid:
        return 1.0 / (1.0 + std::exp(-double(x)));
      case GatingFunc::SqrtSoftplus:
        return std::sqrt(std::log1p(std::exp(double(x))));
      case GatingFunc::Softmax:
      case GatingFunc::SoftmaxWeight:
        break;
    }
    return 0.0;  // softmax is handled below, shifted by the maximum for stability
  };
  double sum = 0;
  double sum_s_log_s = 0;
  const bool softmax = gating == GatingFunc::Softmax || gating == GatingFunc::SoftmaxWeight;
  const double max = *std::max_element(logits.begin(), logits.end());
  for (float x : logits) {
    const double s = softmax ? std::exp(double(x) - max) : score(x);
    if (!(s > 0) || !std::isfinite(s)) continue;
    sum += s;
    sum_s_log_s += s * std::log2(s);
  }
  if (!(sum > 0)) return std::numeric_limits<float>::quiet_NaN();
  // H = -sum (s/S) log2(s/S) = log2 S - (sum s log2 s) / S
  return float(std::max(0.0, std::log2(sum) - sum_s_log_s / sum));
}

float topk_weight_entropy_bits(std::span<const float> weights) {
  double sum = 0;
  for (float w : weights) {
    if (w > 0 && std::isfinite(w)) sum += w;
  }
  if (!(sum > 0)) return std::numeric_limits<float>::quiet_NaN();
  double h = 0;
  for (float w : weights) {
    if (!(w > 0) || !std::isfinite(w)) continue;
    const double p = double(w) / sum;
    h -= p * std::log2(p);
  }
  return float(std::max(0.0, h));
}

}  // namespace moescope::views
