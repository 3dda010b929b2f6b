#include "engine/offload/lossy_gating.h"

#include <charconv>
#include <cmath>

#include <fmt/format.h>

#include "engine/common/error.h"
#include "engine/model/routing_trace_recorder.h"

namespace moescope::offload {

namespace {

float parse_fraction(std::string_view text, std::string_view flag, std::string_view whole) {
  float v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || !std::isfinite(v) ||
      v < 0.0f || v > 1.0f) {
    fail("{} '{}' expects numbers from 0 to 1", flag, whole);
  }
  return v;
}

}  // namespace

std::string LossyOptions::describe() const {
  std::string out;
  if (adaptive()) {
    out += "adaptive-topk ";
    for (size_t i = 0; i < adaptive_topk.size(); ++i)
      out += fmt::format("{}{:g}", i ? "," : "", adaptive_topk[i]);
  }
  if (substitute())
    out += fmt::format("{}substitute {:g}", out.empty() ? "" : ", ", substitute_eps);
  return out;
}

LossyOptions parse_lossy(std::string_view adaptive_topk, std::string_view substitute) {
  LossyOptions o;
  if (!adaptive_topk.empty()) {
    for (size_t start = 0; start <= adaptive_topk.size();) {
      const size_t comma = std::min(adaptive_topk.find(',', start), adaptive_topk.size());
      o.adaptive_topk.push_back(parse_fraction(adaptive_topk.substr(start, comma - start),
                                               "--adaptive-topk", adaptive_topk));
      start = comma + 1;
    }
  }
  if (!substitute.empty())
    o.substitute_eps = parse_fraction(substitute, "--substitute", substitute);
  return o;
}

LossyGating::LossyGating(LossyOptions options, policy::MoeShape shape, GatingFunc gating,
                         Resident resident)
    : options_(std::move(options)),
      shape_(std::move(shape)),
      gating_(gating),
      resident_(std::move(resident)) {
  const int32_t n_moe = shape_.n_layers();
  const size_t n_thresholds = options_.adaptive_topk.size();
  if (n_thresholds > 1 && n_thresholds != size_t(n_moe)) {
    fail(
        "--adaptive-topk has {} thresholds; the model has {} MoE layers (give one value, or one "
        "per MoE layer)",
        n_thresholds, n_moe);
  }
  if (options_.substitute() && !resident_) {
    fail(
        "--substitute replaces experts missing from the cache: it needs --expert-budget or "
        "--expert-slots");
  }
}

int32_t LossyGating::adjust(const RoutingChoice& c) {
  const auto k = static_cast<int32_t>(c.experts.size());
  const std::optional<MoeLayerId> m = shape_.moe_layer(c.layer);
  if (!m) return k;
  ++choices_;
  const int32_t kept = options_.adaptive() ? drop_trailing(*m, c) : k;
  if (options_.substitute()) substitute(*m, c, kept);
  return kept;
}

int32_t LossyGating::drop_trailing(MoeLayerId m, const RoutingChoice& c) {
  const float threshold =
      options_.adaptive_topk[options_.adaptive_topk.size() == 1 ? 0 : size_t(m.value)];
  auto kept = static_cast<int32_t>(c.weights.size());
  double total = 0.0;
  for (int32_t j = 0; j < kept; ++j) total += c.weights[size_t(j)];
  if (!(total > 0.0) || !std::isfinite(total)) return kept;
  double sum = total;
  while (kept > 1 && c.weights[size_t(kept - 1)] < threshold * sum) {
    sum -= c.weights[size_t(kept - 1)];
    --kept;
    ++dropped_;
  }
  if (sum < total && sum > 0.0) {
    const auto scale = static_cast<float>(total / sum);
    for (int32_t j = 0; j < kept; ++j) c.weights[size_t(j)] *= scale;
  }
  return kept;
}

void LossyGating::substitute(MoeLayerId m, const RoutingChoice& c, int32_t kept) {
  const size_t X = c.router_logits.size();
  probs_.resize(X);
  router_distribution(gating_, c.router_logits, probs_);
  auto selected = [&](int32_t e) {
    for (int32_t j = 0; j < kept; ++j)
      if (c.experts[size_t(j)].value == e) return true;
    return false;
  };
  for (int32_t j = 0; j < kept; ++j) {
    const ExpertId missed = c.experts[size_t(j)];
    if (resident_(m, missed)) continue;
    const float floor = probs_[size_t(missed.value)] - options_.substitute_eps;
    int32_t best = -1;
    for (int32_t r = 0; r < int32_t(X); ++r) {
      const float p = probs_[size_t(r)];
      if (p < floor || (best >= 0 && p <= probs_[size_t(best)])) continue;
      if (selected(r) || !resident_(m, ExpertId(r))) continue;
      best = r;
    }
    if (best < 0) {
      ++unsubstituted_;
      continue;
    }
    c.experts[size_t(j)] = ExpertId(best);
    c.scores[size_t(j)] = probs_[size_t(best)];
    ++substituted_;
  }
}

LossyCounters LossyGating::counters() const {
  return {choices_.load(), dropped_.load(), substituted_.load(), unsubstituted_.load()};
}

}  // namespace moescope::offload
