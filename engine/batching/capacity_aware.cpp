#include "engine/batching/capacity_aware.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "engine/common/error.h"

namespace moescope::batching {

int64_t expert_capacity(double gamma, int64_t k, int64_t n_tokens, int64_t n_expert) {
  if (!(gamma > 0) || k < 1 || n_expert < 1) {
    fail("capacity needs gamma > 0, k >= 1 and experts >= 1 (got {}, {}, {})", gamma, k, n_expert);
  }
  if (n_tokens <= 1) return 0;
  const double c = std::ceil(gamma * double(k) * double(n_tokens) / double(n_expert));
  return std::max<int64_t>(1, static_cast<int64_t>(c));
}

namespace {

// The indices of row `probs` ranked by descending probability (ties: lower index first).
std::vector<int32_t> ranked(std::span<const float> probs) {
  std::vector<int32_t> order(probs.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int32_t a, int32_t b) { return probs[a] > probs[b]; });
  return order;
}

// Each token's candidates: its experts ranked by descending probability (the first m of them
// are candidates). Checks the shapes.
std::vector<std::vector<int32_t>> rank_tokens(std::span<const float> probs, int64_t n_tokens,
                                              int64_t n_expert, int64_t k) {
  if (int64_t(probs.size()) != n_tokens * n_expert) fail("capacity: probabilities of wrong size");
  if (k < 1 || k > n_expert) fail("capacity: k {} out of 1..{}", k, n_expert);
  std::vector<std::vector<int32_t>> order(n_tokens);
  for (int64_t t = 0; t < n_tokens; ++t) order[t] = ranked(probs.subspan(t * n_expert, n_expert));
  return order;
}

// Each token keeps its top-k among its first m candidates that survived (survives[t * E + e]),
// or its argmax when none did; counts what was dropped and rerouted.
CapacitySelection keep_survivors(const std::vector<std::vector<int32_t>>& order,
                                 const std::vector<uint8_t>& survives, int64_t n_expert, int64_t k,
                                 int64_t m) {
  const auto n_tokens = static_cast<int64_t>(order.size());
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

}  // namespace

CapacitySelection capacity_select(std::span<const float> probs, int64_t n_tokens, int64_t n_expert,
                                  int64_t k, int64_t candidates_per_token, int64_t capacity) {
  const std::vector<std::vector<int32_t>> order = rank_tokens(probs, n_tokens, n_expert, k);
  const int64_t m = std::clamp(candidates_per_token, k, n_expert);
  // Per expert, the tokens that have it among their candidates.
  std::vector<std::vector<int32_t>> pickers(n_expert);
  for (int64_t t = 0; t < n_tokens; ++t) {
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
  return keep_survivors(order, survives, n_expert, k, m);
}

int64_t device_capacity(double gamma, int64_t k, int64_t n_tokens, int64_t n_devices) {
  if (n_devices < 1) fail("capacity per device needs at least one device (got {})", n_devices);
  return expert_capacity(gamma, k, n_tokens, n_devices);  // the same formula with D for E
}

std::vector<int32_t> contiguous_devices(int64_t n_expert, int64_t n_devices) {
  if (n_devices < 1 || n_devices > n_expert) {
    fail("capacity: {} devices for {} experts (1 .. experts)", n_devices, n_expert);
  }
  std::vector<int32_t> device_of(n_expert);
  for (int64_t e = 0; e < n_expert; ++e)
    device_of[e] = static_cast<int32_t>(e * n_devices / n_expert);
  return device_of;
}

CapacitySelection capacity_select_per_device(std::span<const float> probs, int64_t n_tokens,
                                             int64_t n_expert, int64_t k,
                                             int64_t candidates_per_token, int64_t capacity,
                                             std::span<const int32_t> device_of,
                                             int64_t n_devices) {
  const std::vector<std::vector<int32_t>> order = rank_tokens(probs, n_tokens, n_expert, k);
  if (int64_t(device_of.size()) != n_expert) fail("capacity: a device for each expert needed");
  for (int32_t d : device_of) {
    if (d < 0 || d >= n_devices) fail("capacity: device {} out of 0..{}", d, n_devices - 1);
  }
  const int64_t m = std::clamp(candidates_per_token, k, n_expert);
  // Per device, its candidate routings (token, rank), in token then rank order.
  struct Route {
    int32_t token, rank;
  };
  std::vector<std::vector<Route>> routes(n_devices);
  for (int64_t t = 0; t < n_tokens; ++t) {
    for (int64_t j = 0; j < m; ++j) {
      routes[device_of[order[t][j]]].push_back({int32_t(t), int32_t(j)});
    }
  }
  std::vector<uint8_t> survives(n_tokens * n_expert, 0);
  for (std::vector<Route>& r : routes) {
    if (capacity > 0 && int64_t(r.size()) > capacity) {
      // Highest probability first; the stable sort keeps ties in token, then rank order.
      std::stable_sort(r.begin(), r.end(), [&](Route a, Route b) {
        return probs[a.token * n_expert + order[a.token][a.rank]] >
               probs[b.token * n_expert + order[b.token][b.rank]];
      });
      r.resize(capacity);
    }
    for (Route x : r) survives[x.token * n_expert + order[x.token][x.rank]] = 1;
  }
  return keep_survivors(order, survives, n_expert, k, m);
}

std::vector<int64_t> device_loads(const CapacitySelection& s, std::span<const int32_t> device_of,
                                  int64_t n_devices) {
  std::vector<int64_t> loads(n_devices, 0);
  for (int32_t e : s.experts) {
    if (e >= 0) ++loads[device_of[e]];
  }
  return loads;
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
