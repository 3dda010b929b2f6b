#include "engine/batching/capacity_gating.h"

#include <fmt/format.h>

#include <algorithm>

#include "engine/batching/capacity_aware.h"
#include "engine/common/error.h"
#include "engine/model/routing_trace_recorder.h"

namespace moescope::batching {

std::string CapacityOptions::describe() const {
  std::string s = expand > 1 ? fmt::format("capacity expanded-drop γ={} m={}", gamma, expand)
                             : fmt::format("capacity token-drop γ={}", gamma);
  if (devices > 0) s += fmt::format(" per device D={}", devices);
  return s;
}

CapacityTotals capacity_totals(std::span<const CapacityRecord> records) {
  CapacityTotals t;
  for (const CapacityRecord& r : records) {
    t.routings += r.routings;
    t.dropped += r.dropped;
    t.rerouted += r.rerouted;
    t.mean_straggler_before += r.straggler_before;
    t.mean_straggler_after += r.straggler_after;
  }
  const double n = double(std::max<size_t>(records.size(), 1));
  t.mean_straggler_before /= n;
  t.mean_straggler_after /= n;
  return t;
}

CapacityGating::CapacityGating(CapacityOptions options, const RoutingParams& routing)
    : options_(options), routing_(routing) {
  if (!(options_.gamma > 0)) fail("--capacity expects a factor above 0, got {}", options_.gamma);
  if (options_.expand < 1) fail("--expand expects m >= 1, got {}", options_.expand);
  if (options_.devices < 0) fail("--capacity-devices expects D >= 1, got {}", options_.devices);
  if (routing_.n_expert > 0 && options_.devices > routing_.n_expert) {
    fail("--capacity-devices {}: more devices than the model's {} experts", options_.devices,
         routing_.n_expert);
  }
}

int32_t CapacityGating::adjust(const RoutingChoice& choice) {
  return static_cast<int32_t>(choice.experts.size());  // the batch decides (adjust_batch)
}

void CapacityGating::adjust_batch(const BatchRoutingChoice& c) {
  const int64_t n = c.n_tokens, k = c.k, X = c.n_expert;
  probs_.resize(n * X);
  for (int64_t t = 0; t < n; ++t) {
    router_distribution(routing_.gating, c.router_logits.subspan(t * X, X),
                        std::span<float>(probs_).subspan(t * X, X));
  }
  CapacityRecord rec;
  rec.layer = c.layer;
  rec.n_tokens = static_cast<int32_t>(n);
  // The load of each expert, or of each device, before and after.
  const int64_t D = options_.devices;
  if (D > 0 && int64_t(device_of_.size()) != X) device_of_ = contiguous_devices(X, D);
  auto balance = [&](const std::vector<int64_t>& per_expert) {
    if (D == 0) return straggler_factor(per_expert);
    std::vector<int64_t> per_device(D, 0);
    for (int64_t e = 0; e < X; ++e) per_device[device_of_[e]] += per_expert[e];
    return straggler_factor(per_device);
  };
  std::vector<int64_t> before(X, 0);
  for (int64_t t = 0; t < n; ++t) {
    for (int64_t j = 0; j < c.n_kept[t]; ++j) ++before[c.experts[t * k + j].value];
    rec.routings += c.n_kept[t];
  }
  rec.straggler_before = balance(before);
  const int64_t m = k * options_.expand;
  CapacitySelection sel;
  if (D > 0) {
    rec.capacity = device_capacity(options_.gamma, k, n, D);
    sel = capacity_select_per_device(probs_, n, X, k, m, rec.capacity, device_of_, D);
  } else {
    rec.capacity = expert_capacity(options_.gamma, k, n, X);
    sel = capacity_select(probs_, n, X, k, m, rec.capacity);
  }
  rec.dropped = sel.dropped;
  rec.rerouted = sel.rerouted;
  rec.straggler_after = balance(expert_loads(sel, X));
  for (int64_t t = 0; t < n; ++t) {
    const int32_t* chosen = &sel.experts[t * k];
    const int64_t kept = sel.n_kept[t];
    bool same = kept == c.n_kept[t];
    for (int64_t j = 0; j < kept && same; ++j) {
      same = std::any_of(&c.experts[t * k], &c.experts[t * k] + c.n_kept[t],
                         [&](ExpertId e) { return e.value == chosen[j]; });
    }
    if (same) continue;  // untouched tokens keep the model's exact weights
    float sum = 0;
    for (int64_t j = 0; j < kept; ++j) sum += probs_[t * X + chosen[j]];
    for (int64_t j = 0; j < kept; ++j) {
      const float p = probs_[t * X + chosen[j]];
      float w = routing_.norm_weights && sum > 0 ? p / sum : p;
      if (routing_.weights_scale != 0.0f && routing_.weights_scale != 1.0f) {
        w *= routing_.weights_scale;
      }
      c.experts[t * k + j] = ExpertId(chosen[j]);
      c.weights[t * k + j] = w;
      c.scores[t * k + j] = p;
    }
    c.n_kept[t] = kept;
  }
  records_.push_back(rec);
}

}  // namespace moescope::batching
