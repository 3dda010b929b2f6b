#include "engine/policy/routing_stats.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <numeric>

#include "engine/common/error.h"
#include "engine/policy/access_stream.h"
#include "engine/policy/policies.h"
#include "engine/policy/simulator.h"

namespace moescope::policy {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double entropy_bits(const std::vector<double>& mass) {
  const double total = std::accumulate(mass.begin(), mass.end(), 0.0);
  if (!(total > 0)) return 0;
  double h = 0;
  for (double m : mass)
    if (m > 0) h -= (m / total) * std::log2(m / total);
  return h;
}

std::vector<int64_t> selected_tokens(const RoutingTrace& trace, PhaseFilter filter) {
  std::vector<int64_t> tokens;
  for (int64_t t = 0; t < trace.n_tokens(); ++t)
    if (phase_selected(filter, trace.phase[t])) tokens.push_back(t);
  return tokens;
}

// Layers [0, end) are valid for the statistic.
void check_layer(MoeLayerId l, int32_t end) {
  if (l.value < 0 || l.value >= end) fail("layer {} is out of range for this statistic", l.value);
}

// Joint counts of the top-1 experts at layers l and l+1.
std::vector<double> top1_joint(const RoutingTrace& trace, MoeLayerId l, PhaseFilter filter) {
  const int32_t a_n = trace.shape.n_experts[l.value], b_n = trace.shape.n_experts[l.value + 1];
  std::vector<double> joint(size_t(a_n) * size_t(b_n), 0.0);
  for (int64_t t : selected_tokens(trace, filter)) {
    const auto a = trace.experts(TokenPos(int32_t(t)), l);
    const auto b = trace.experts(TokenPos(int32_t(t)), MoeLayerId(l.value + 1));
    if (!a.empty() && !b.empty()) joint[size_t(a[0].value) * size_t(b_n) + size_t(b[0].value)] += 1;
  }
  return joint;
}

}  // namespace

RoutingStats routing_stats(const RoutingTrace& trace, PhaseFilter filter) {
  RoutingStats out;
  const std::vector<int64_t> tokens = selected_tokens(trace, filter);
  int64_t used_total = 0;
  for (int32_t l = 0; l < trace.n_layers(); ++l) {
    LayerRoutingStats s;
    const int32_t n = trace.shape.n_experts[l];
    s.load.assign(size_t(n), 0);
    s.tokens = int64_t(tokens.size());
    double router_entropy = 0;
    for (int64_t t : tokens) {
      const TokenLayerRouting r = trace.routing(TokenPos(int32_t(t)), MoeLayerId(l));
      for (ExpertId e : r.experts) ++s.load[e.value];
      if (!r.probs.empty()) router_entropy += entropy_bits({r.probs.begin(), r.probs.end()});
    }
    s.router_entropy_bits =
        trace.has_probs() && !tokens.empty() ? router_entropy / double(tokens.size()) : kNaN;
    s.activations = std::accumulate(s.load.begin(), s.load.end(), int64_t{0});
    double sum = 0, sum_sq = 0;
    for (int64_t x : s.load) {
      sum += double(x);
      sum_sq += double(x) * double(x);
    }
    s.jain_fairness = sum_sq > 0 ? sum * sum / (double(n) * sum_sq) : 0;
    s.load_entropy_bits = entropy_bits({s.load.begin(), s.load.end()});
    std::vector<int64_t> sorted = s.load;
    std::sort(sorted.begin(), sorted.end(), std::greater<>());
    int64_t covered = 0;
    // Integer form of covered >= 0.8 * activations.
    while (s.activations > 0 && covered * 5 < s.activations * 4) covered += sorted[s.hot_set_80++];
    const int64_t used =
        std::count_if(s.load.begin(), s.load.end(), [](int64_t x) { return x > 0; });
    used_total += used;
    s.slots_used_share = double(used) / double(n);
    out.layers.push_back(std::move(s));
  }
  out.slots_used_share = double(used_total) / double(trace.shape.total_experts());
  return out;
}

std::vector<double> affinity_matrix(const RoutingTrace& trace, MoeLayerId l, PhaseFilter filter) {
  check_layer(l, trace.n_layers() - 1);
  const int32_t a_n = trace.shape.n_experts[l.value], b_n = trace.shape.n_experts[l.value + 1];
  std::vector<double> m(size_t(a_n) * size_t(b_n), 0.0);
  for (int64_t t : selected_tokens(trace, filter)) {
    const auto a = trace.experts(TokenPos(int32_t(t)), l);
    const auto b = trace.experts(TokenPos(int32_t(t)), MoeLayerId(l.value + 1));
    for (ExpertId i : a)
      for (ExpertId j : b) m[size_t(i.value) * size_t(b_n) + size_t(j.value)] += 1;
  }
  for (int32_t i = 0; i < a_n; ++i) {
    double* row = &m[size_t(i) * size_t(b_n)];
    const double total = std::accumulate(row, row + b_n, 0.0);
    if (total > 0)
      for (int32_t j = 0; j < b_n; ++j) row[j] /= total;
  }
  return m;
}

double top1_entropy(const RoutingTrace& trace, MoeLayerId l, PhaseFilter filter) {
  check_layer(l, trace.n_layers());
  std::vector<double> count(size_t(trace.shape.n_experts[l.value]), 0.0);
  for (int64_t t : selected_tokens(trace, filter)) {
    const auto a = trace.experts(TokenPos(int32_t(t)), l);
    if (!a.empty()) count[a[0].value] += 1;
  }
  return entropy_bits(count);
}

double top1_mutual_information(const RoutingTrace& trace, MoeLayerId l, PhaseFilter filter) {
  check_layer(l, trace.n_layers() - 1);
  const int32_t a_n = trace.shape.n_experts[l.value], b_n = trace.shape.n_experts[l.value + 1];
  const std::vector<double> joint = top1_joint(trace, l, filter);
  std::vector<double> pa(size_t(a_n), 0.0), pb(size_t(b_n), 0.0);
  double total = 0;
  for (int32_t i = 0; i < a_n; ++i)
    for (int32_t j = 0; j < b_n; ++j) {
      const double c = joint[size_t(i) * size_t(b_n) + size_t(j)];
      pa[i] += c;
      pb[j] += c;
      total += c;
    }
  if (!(total > 0)) return 0;
  double mi = 0;
  for (int32_t i = 0; i < a_n; ++i)
    for (int32_t j = 0; j < b_n; ++j) {
      const double c = joint[size_t(i) * size_t(b_n) + size_t(j)];
      if (c > 0) mi += (c / total) * std::log2(c * total / (pa[i] * pb[j]));
    }
  return std::max(mi, 0.0);
}

}  // namespace moescope::policy
