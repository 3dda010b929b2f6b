#pragma once
// Straightforward, slow reference implementations of Liang et al.'s SRP and SCH (arXiv
// 2505.16056 §3, moe-lrc src/30_srp_calc.py, 31_srp_refine.py), written from the definitions and
// sharing no code with engine/policy/local_consistency.cpp. Every token is selected.
#include <algorithm>
#include <cstdint>
#include <map>
#include <utility>
#include <vector>

#include "engine/policy/routing_trace.h"

namespace moescope::policy::testing {

// SRP(m) pooled over `layers`: every segment [s, s + m) counted directly, every threshold j tried.
inline double reference_srp(const RoutingTrace& trace, int m, const std::vector<int>& layers) {
  const int T = int(trace.n_tokens());
  if (T < m) return -1;
  // counts[layer][segment][expert]
  std::vector<std::vector<std::vector<int>>> counts;
  for (int l : layers) {
    std::vector<std::vector<int>> per_segment;
    for (int s = 0; s + m <= T; ++s) {
      std::vector<int> c(size_t(trace.shape.n_experts[size_t(l)]), 0);
      for (int t = s; t < s + m; ++t)
        for (ExpertId e : trace.experts(TokenPos(t), MoeLayerId(l))) ++c[size_t(e.value)];
      per_segment.push_back(c);
    }
    counts.push_back(per_segment);
  }
  double best = 0;
  for (int j = 0; j <= m; ++j) {
    long long matches = 0, predictions = 0, activations = 0;
    for (const auto& per_segment : counts)
      for (const auto& c : per_segment)
        for (int x : c) {
          activations += x;
          if (x >= j) {
            predictions += m;  // the expert is predicted for each of the m tokens
            matches += x;      // and is right on the x tokens that route to it
          }
        }
    best = std::max(best, 2.0 * double(matches) / double(std::max(1LL, predictions + activations)));
  }
  return best;
}

// SCH(m) with `capacity` slots per pool: one pool per layer (global = false) or one for all
// layers. Tokens one by one, layers in order, experts in top-k order. A miss with a full pool
// evicts the resident with the fewest accesses after the current one among tokens [t, t + m)
// (ties: least recently used), never one the current (token, layer) step has yet to access; when
// only such remain, the miss is not cached. Returns hits / accesses over all layers.
inline double reference_sch(const RoutingTrace& trace, int m, const std::vector<int>& capacity,
                            bool global) {
  struct Access {
    int token, layer, expert;
  };
  std::vector<Access> stream;
  for (int t = 0; t < int(trace.n_tokens()); ++t)
    for (int l = 0; l < trace.n_layers(); ++l)
      for (ExpertId e : trace.experts(TokenPos(t), MoeLayerId(l)))
        stream.push_back({t, l, e.value});
  using Key = std::pair<int, int>;                 // (layer, expert)
  std::vector<std::map<Key, long long>> resident;  // per pool: key -> last use
  resident.resize(global ? 1 : size_t(trace.n_layers()));
  long long tick = 0, hits = 0;
  for (size_t i = 0; i < stream.size(); ++i) {
    const Access a = stream[i];
    const Key key{a.layer, a.expert};
    auto& pool = resident[global ? 0 : size_t(a.layer)];
    const int cap = global ? capacity[0] : capacity[size_t(a.layer)];
    ++tick;
    if (pool.count(key)) {
      ++hits;
      pool[key] = tick;
      continue;
    }
    if (int(pool.size()) < cap) {
      pool[key] = tick;
      continue;
    }
    auto future_uses = [&](const Key& k) {
      int n = 0;
      for (size_t f = i + 1; f < stream.size() && stream[f].token < a.token + m; ++f)
        n += stream[f].layer == k.first && stream[f].expert == k.second;
      return n;
    };
    auto still_needed = [&](const Key& k) {
      for (size_t f = i + 1; f < stream.size() && stream[f].token == a.token &&
                             stream[f].layer == a.layer;
           ++f)
        if (stream[f].expert == k.second && k.first == a.layer) return true;
      return false;
    };
    const Key* victim = nullptr;
    std::pair<int, long long> victim_rank{0, 0};
    for (const auto& [k, last] : pool) {
      if (still_needed(k)) continue;
      const std::pair<int, long long> rank{future_uses(k), last};
      if (!victim || rank < victim_rank) {
        victim = &k;
        victim_rank = rank;
      }
    }
    if (!victim) continue;
    const Key evicted = *victim;
    pool.erase(evicted);
    pool[key] = tick;
  }
  return stream.empty() ? 0 : double(hits) / double(stream.size());
}

}  // namespace moescope::policy::testing
