#include "engine/policy/synthetic_trace.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include "engine/common/error.h"

namespace moescope::policy {

namespace {

// Weighted draw without replacement of k experts (weights are zeroed as they are taken).
void draw(std::mt19937_64& rng, std::vector<double> w, int32_t k, std::vector<ExpertId>& out) {
  for (int32_t i = 0; i < k; ++i) {
    const double total = std::accumulate(w.begin(), w.end(), 0.0);
    double u = std::uniform_real_distribution<double>(0, total)(rng);
    size_t e = 0;
    for (; e + 1 < w.size(); ++e) {
      if (w[e] > 0 && u < w[e]) break;
      u -= w[e];
    }
    while (w[e] <= 0) e = (e + 1) % w.size();  // rounding at the end of the range
    out.push_back(ExpertId(int32_t(e)));
    w[e] = 0;
  }
}

}  // namespace

RoutingTrace synthetic_trace(const SyntheticSpec& spec) {
  if (spec.n_tokens < 0 || spec.n_prefill < 0 || spec.n_prefill > spec.n_tokens)
    fail("synthetic trace: bad token counts");
  const int32_t L = spec.n_layers, E = spec.n_experts, k = spec.top_k;
  MoeShape shape = MoeShape::uniform(L, E, k, spec.expert_bytes);
  std::mt19937_64 rng(spec.seed);

  // Per layer: a random popularity order (Zipf) and a random successor map (affinity).
  std::vector<std::vector<double>> base(size_t(L), std::vector<double>(size_t(E), 1.0));
  std::vector<std::vector<int32_t>> successor(static_cast<size_t>(L),
                                              std::vector<int32_t>(static_cast<size_t>(E)));
  for (int32_t l = 0; l < L; ++l) {
    std::vector<int32_t> order(static_cast<size_t>(E));
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), rng);
    if (spec.kind == SyntheticSpec::Kind::kZipf || spec.kind == SyntheticSpec::Kind::kBursty)
      for (int32_t r = 0; r < E; ++r) base[l][order[r]] = 1.0 / std::pow(r + 1.0, spec.zipf_s);
    std::iota(successor[l].begin(), successor[l].end(), 0);
    std::shuffle(successor[l].begin(), successor[l].end(), rng);
  }
  std::vector<std::vector<int32_t>> hot(static_cast<size_t>(L));
  std::vector<int64_t> hot_until(size_t(L), 0);

  RoutingTraceBuilder builder(shape, spec.with_probs);
  std::vector<ExpertId> picked;
  std::vector<float> weights, probs;
  std::uniform_real_distribution<double> unit(0, 1);
  for (int64_t t = 0; t < spec.n_tokens; ++t) {
    builder.begin_token(t < spec.n_prefill ? Phase::kPrefill : Phase::kDecode,
                        int32_t(rng() % 32000));
    int32_t prev_top1 = -1;
    for (int32_t l = 0; l < L; ++l) {
      picked.clear();
      std::vector<double> w = base[l];
      if (spec.kind == SyntheticSpec::Kind::kConstant) {
        for (int32_t i = 0; i < k; ++i) picked.push_back(ExpertId(i));
      } else {
        if (spec.kind == SyntheticSpec::Kind::kBursty) {
          if (t >= hot_until[l]) {
            hot[l].clear();
            std::vector<ExpertId> h;
            draw(rng, base[l], std::min(E, 2 * k), h);
            for (ExpertId e : h) hot[l].push_back(e.value);
            hot_until[l] = t + 1 +
                           int64_t(std::exponential_distribution<double>(
                               1.0 / std::max(1, spec.burst_len))(rng));
          }
          double hot_mass = 0, cold_mass = 0;
          for (int32_t e = 0; e < E; ++e)
            (std::find(hot[l].begin(), hot[l].end(), e) != hot[l].end() ? hot_mass : cold_mass) +=
                w[e];
          for (int32_t e = 0; e < E; ++e) {
            const bool is_hot = std::find(hot[l].begin(), hot[l].end(), e) != hot[l].end();
            if (is_hot)
              w[e] *= spec.burst_share / hot_mass;
            else if (cold_mass > 0)
              w[e] *= (1 - spec.burst_share) / cold_mass;
          }
        }
        if (l > 0 && prev_top1 >= 0 && unit(rng) < spec.affinity) {
          const int32_t forced = successor[l - 1][prev_top1];
          picked.push_back(ExpertId(forced));
          w[forced] = 0;
        }
        draw(rng, w, k - int32_t(picked.size()), picked);
      }
      prev_top1 = picked[0].value;
      // Mixing weights falling with rank; probabilities put the picked experts on top.
      weights.clear();
      float total = 0;
      for (int32_t i = 0; i < k; ++i) total += 1.0f / float(i + 1);
      for (int32_t i = 0; i < k; ++i) weights.push_back(1.0f / float(i + 1) / total);
      probs.clear();
      if (spec.with_probs) {
        probs.assign(size_t(E), 0.0f);
        const float rest = E > k ? 0.3f / float(E - k) : 0.0f;
        for (int32_t e = 0; e < E; ++e) probs[e] = rest * float(0.5 + 0.5 * unit(rng));
        for (int32_t i = 0; i < k; ++i) probs[picked[i].value] = 0.7f * weights[i];
      }
      builder.add_layer(picked, weights, probs);
    }
  }
  return builder.finish();
}

}  // namespace moescope::policy
