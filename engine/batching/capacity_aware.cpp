#include "engine/batching/capacity_aware.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "engine/common/error.h"

namespace moescope::batching {
namespace {

// The indices of row `probs` ranked by descending probability (ties: lower index first).
std::vector<int32_t> ranked(std::span<const float> probs) {
  std::vector<int32_t> order(probs.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int32_t a, int32_t b) { return probs[a] > probs[b]; });
  return order;
}

}  // namespace

int64_t expert_capacity(double gamma, int64_t k, int64_t n_tokens, int64_t n_expert) {
  if (!(gamma > 0) || k < 1 || n_expert < 1) {
    fail("capacity needs gamma > 0, k >= 1 and experts >= 1 (got {}, {}, {})", gamma, k, n_expert);
  }
  if (n_tokens <= 1) return 0;
  const double c = std::ceil(gamma * double(k) * double(n_tokens) / double(n_expert));
  return std::max<int64_t>(1, static_cast<int64_t>(c));
}

CapacitySelection capacity_select(std::span<const float> probs, int64_t n_tokens, int64_t n_expert,
                                  int64_t k, int64_t candidates_per_token, int64_t capacity) {
  if (int64_t(probs.size()) != n_tokens * n_expert) fail("capacity: probabilities of wrong size");
  if (k < 1 || k > n_expert) fail("capacity: k {} out of 1..{}", k, n_expert);
  const int64_t m = std::clamp(candidates_per_token, k, n_expert);
  // Each token's candidates (its top-m) and, per expert, the tokens that picked it.
  std::vector<std::vector<int32_t>> order(n_tokens);
  std::vector<std::vector<int32_t>> pickers(n_expert);
  for (int64_t t = 0; t < n_tokens; ++t) {
    order[t] = ranked(probs.subspan(t * n_expert, n_expert));
    for (int64_t j = 0; j < m; ++j) pickers[order[t][j]].push_back(static_cast<int32_t>(t));
  }
  // survives[t * E + e]: token t's candidate e is within e's capacity.
  std::vector<uint8_t> survives(n_tokens * n_expert, 0);
  for (int64_t e = 0; e < n_expert; ++e) {
    std::vector<int32_t>& p = pickers[e];
    if (capacity > 0 && int64_t(p.size()) > capacity) {
      std::stable_sort(p.begin(), p.end(), [&](int32_t a, int32_t b) {
        return probs[a * n_expert + e] > probs[b * n_expert + e];
      });
      p.resize(capacity);
    }
    for (int32_t t : p) survives[t * n_expert + e] = 1;
  }
  CapacitySelection s;
  s.n_tokens = n_tokens;
  s.k = k;
  s.experts.assign(n_tokens * k, -1);
  s.n_kept.assign(n_tokens, 0);
  for (int64_t t = 0; t < n_tokens; ++t) {
    int32_t* out = &s.experts[t * k];
    for (int64_t j = 0; j < m && s.n_kept[t] < k; ++j) {
      const int32_t e = order[t][j];
      if (!survives[t * n_expert + e]) continue;
      out[s.n_kept[t]++] = e;
      s.rerouted += j >= k;
    }
    if (s.n_kept[t] == 0) {
      out[0] = order[t][0];
      s.n_kept[t] = 1;
      ++s.fallbacks;
    }
    for (int64_t j = 0; j < k; ++j) {  // top-k routings lost
      s.dropped += std::find(out, out + s.n_kept[t], order[t][j]) == out + s.n_kept[t];
    }
  }
  return s;
}

std::vector<int64_t> expert_loads(const CapacitySelection& s, int64_t n_expert) {
  std::vector<int64_t> loads(n_expert, 0);
  for (int32_t e : s.experts) {
    if (e >= 0) ++loads[e];
  }
  return loads;
}

double straggler_factor(std::span<const int64_t> loads) {
  if (loads.empty()) return 0.0;
  const int64_t total = std::accumulate(loads.begin(), loads.end(), int64_t{0});
  if (total == 0) return 0.0;
  const int64_t max = *std::max_element(loads.begin(), loads.end());
  return double(max) / (double(total) / double(loads.size()));
}

}  // namespace moescope::batching
