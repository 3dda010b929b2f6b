#include "engine/placement/affinity.h"

#include <algorithm>
#include <functional>
#include <limits>

namespace moescope::placement {
namespace {

// Every balanced assignment of `experts` experts to `devices` devices.
std::vector<std::vector<int32_t>> enumerate_assignments(int32_t experts, int32_t devices) {
  std::vector<std::vector<int32_t>> all;
  std::vector<int32_t> current(static_cast<size_t>(experts)), room(size_t(devices), experts / devices);
  std::function<void(int32_t)> place = [&](int32_t e) {
    if (e == experts) {
      all.push_back(current);
      return;
    }
    for (int32_t d = 0; d < devices; ++d) {
      if (room[size_t(d)] == 0) continue;
      --room[size_t(d)];
      current[size_t(e)] = d;
      place(e + 1);
      ++room[size_t(d)];
    }
  };
  place(0);
  return all;
}

// Dynamic programming along the chain of layers over every balanced assignment.
DeviceAssignment exact_assignment(const ExpertStatistics& stats, int32_t devices) {
  const size_t layers = stats.n_experts.size();
  std::vector<std::vector<std::vector<int32_t>>> options;
  for (int32_t e : stats.n_experts) options.push_back(enumerate_assignments(e, devices));
  std::vector<std::vector<double>> best(layers);
  std::vector<std::vector<int32_t>> from(layers);
  best[0].assign(options[0].size(), 0.0);
  for (size_t l = 1; l < layers; ++l) {
    const int32_t e_prev = stats.n_experts[l - 1], e_l = stats.n_experts[l];
    // m[s'][g][p]: pairs from experts on device g (under assignment s' of layer l - 1) to p.
    std::vector<double> m(options[l - 1].size() * size_t(devices) * size_t(e_l), 0.0);
    for (size_t sp = 0; sp < options[l - 1].size(); ++sp)
      for (int32_t i = 0; i < e_prev; ++i)
        for (int32_t p = 0; p < e_l; ++p)
          m[(sp * size_t(devices) + size_t(options[l - 1][sp][size_t(i)])) * size_t(e_l) +
            size_t(p)] += stats.transition(int32_t(l - 1), i, p);
    best[l].assign(options[l].size(), -std::numeric_limits<double>::infinity());
    from[l].assign(options[l].size(), 0);
    for (size_t s = 0; s < options[l].size(); ++s)
      for (size_t sp = 0; sp < options[l - 1].size(); ++sp) {
        double v = best[l - 1][sp];
        for (int32_t p = 0; p < e_l; ++p)
          v += m[(sp * size_t(devices) + size_t(options[l][s][size_t(p)])) * size_t(e_l) + size_t(p)];
        if (v > best[l][s]) best[l][s] = v, from[l][s] = static_cast<int32_t>(sp);
      }
  }
  DeviceAssignment out(layers);
  size_t s = size_t(std::max_element(best[layers - 1].begin(), best[layers - 1].end()) -
                    best[layers - 1].begin());
  for (size_t l = layers; l-- > 0;) {
    out[l] = options[l][s];
    if (l > 0) s = size_t(from[l][s]);
  }
  return out;
}

// Layer 0 contiguous; every next layer's experts go, heaviest affinity first, to the device
// holding most of the previous layer's traffic towards them, while it has room.
DeviceAssignment greedy_chain(const ExpertStatistics& stats, int32_t devices) {
  DeviceAssignment a = contiguous_assignment(stats.n_experts, devices);
  for (size_t l = 1; l < stats.n_experts.size(); ++l) {
    const int32_t e_l = stats.n_experts[l];
    struct Cand {
      double w;
      int32_t p, g;
    };
    std::vector<Cand> cands;
    std::vector<double> w(static_cast<size_t>(e_l) * size_t(devices), 0.0);
    for (int32_t i = 0; i < stats.n_experts[l - 1]; ++i)
      for (int32_t p = 0; p < e_l; ++p)
        w[size_t(p) * size_t(devices) + size_t(a[l - 1][size_t(i)])] +=
            stats.transition(int32_t(l - 1), i, p);
    for (int32_t p = 0; p < e_l; ++p)
      for (int32_t g = 0; g < devices; ++g)
        cands.push_back({w[size_t(p) * size_t(devices) + size_t(g)], p, g});
    std::stable_sort(cands.begin(), cands.end(), [](const Cand& x, const Cand& y) { return x.w > y.w; });
    std::vector<int32_t> room(static_cast<size_t>(devices), e_l / devices);
    std::vector<int32_t> dev(static_cast<size_t>(e_l), -1);
    for (const Cand& c : cands) {
      if (dev[size_t(c.p)] >= 0 || room[size_t(c.g)] == 0) continue;
      dev[size_t(c.p)] = c.g;
      --room[size_t(c.g)];
    }
    a[l] = std::move(dev);
  }
  return a;
}

// Hungarian algorithm (shortest augmenting paths with potentials): the assignment of n rows to
// n columns of least total cost. cost is row-major n x n. Returns the column of every row.
std::vector<int32_t> min_cost_assignment(const std::vector<double>& cost, int32_t n) {
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> u(size_t(n) + 1, 0.0), v(size_t(n) + 1, 0.0);
  std::vector<int32_t> match(size_t(n) + 1, 0), way(size_t(n) + 1, 0);  // column -> row (1-based)
  for (int32_t row = 1; row <= n; ++row) {
    match[0] = row;
    int32_t col = 0;
    std::vector<double> minv(size_t(n) + 1, inf);
    std::vector<bool> used(size_t(n) + 1, false);
    do {
      used[size_t(col)] = true;
      const int32_t r = match[size_t(col)];
      double delta = inf;
      int32_t next = 0;
      for (int32_t j = 1; j <= n; ++j) {
        if (used[size_t(j)]) continue;
        const double c = cost[size_t(r - 1) * size_t(n) + size_t(j - 1)] - u[size_t(r)] - v[size_t(j)];
        if (c < minv[size_t(j)]) minv[size_t(j)] = c, way[size_t(j)] = col;
        if (minv[size_t(j)] < delta) delta = minv[size_t(j)], next = j;
      }
      for (int32_t j = 0; j <= n; ++j) {
        if (used[size_t(j)]) u[size_t(match[size_t(j)])] += delta, v[size_t(j)] -= delta;
        else minv[size_t(j)] -= delta;
      }
      col = next;
    } while (match[size_t(col)] != 0);
    do {
      const int32_t prev = way[size_t(col)];
      match[size_t(col)] = match[size_t(prev)];
      col = prev;
    } while (col != 0);
  }
  std::vector<int32_t> row_to_col(static_cast<size_t>(n));
  for (int32_t j = 1; j <= n; ++j) row_to_col[size_t(match[size_t(j)] - 1)] = j - 1;
  return row_to_col;
}

// Re-places layer l optimally with both neighbouring layers fixed: expert p earns the transition
// pairs it shares with the experts on its device at layers l - 1 and l + 1, a linear assignment
// with E / G places per device.
void best_layer(const ExpertStatistics& stats, DeviceAssignment& a, size_t l, int32_t devices) {
  const int32_t e_l = stats.n_experts[l], per = e_l / devices;
  std::vector<double> w(size_t(e_l) * size_t(devices), 0.0);  // [p][g]
  if (l > 0)
    for (int32_t i = 0; i < stats.n_experts[l - 1]; ++i)
      for (int32_t p = 0; p < e_l; ++p)
        w[size_t(p) * size_t(devices) + size_t(a[l - 1][size_t(i)])] += stats.transition(int32_t(l - 1), i, p);
  if (l + 1 < stats.n_experts.size())
    for (int32_t p = 0; p < e_l; ++p)
      for (int32_t r = 0; r < stats.n_experts[l + 1]; ++r)
        w[size_t(p) * size_t(devices) + size_t(a[l + 1][size_t(r)])] += stats.transition(int32_t(l), p, r);
  std::vector<double> cost(size_t(e_l) * size_t(e_l));
  for (int32_t p = 0; p < e_l; ++p)
    for (int32_t c = 0; c < e_l; ++c) cost[size_t(p) * size_t(e_l) + size_t(c)] = -w[size_t(p) * size_t(devices) + size_t(c / per)];
  const std::vector<int32_t> col = min_cost_assignment(cost, e_l);
  for (int32_t p = 0; p < e_l; ++p) a[l][size_t(p)] = col[size_t(p)] / per;
}

// Block coordinate ascent: every layer in turn re-placed optimally given its neighbours, until a
// sweep gains nothing. Never lowers the objective.
DeviceAssignment coordinate_ascent(const ExpertStatistics& stats, DeviceAssignment a,
                                   int32_t devices, int32_t max_sweeps) {
  double current = colocated_pairs(stats, a);
  for (int32_t sweep = 0; sweep < max_sweeps; ++sweep) {
    DeviceAssignment next = a;
    for (size_t l = 0; l < stats.n_experts.size(); ++l) best_layer(stats, next, l, devices);
    const double value = colocated_pairs(stats, next);
    if (!(value > current + 1e-9)) break;
    a = std::move(next);
    current = value;
  }
  return a;
}

// Sum of the k largest values.
double top_sum(std::vector<double> v, int32_t k) {
  k = std::min<int32_t>(k, static_cast<int32_t>(v.size()));
  std::partial_sort(v.begin(), v.begin() + k, v.end(), std::greater<>());
  double s = 0;
  for (int32_t i = 0; i < k; ++i) s += v[size_t(i)];
  return s;
}

}  // namespace

int64_t balanced_assignments(int32_t experts, int32_t devices, int64_t limit) {
  // Multinomial E! / ((E/G)!)^G as a product of binomials, saturating.
  const int32_t per = experts / devices;
  double count = 1;
  int32_t left = experts;
  for (int32_t d = 0; d < devices; ++d) {
    for (int32_t k = 1; k <= per; ++k) count = count * double(left - per + k) / double(k);
    left -= per;
    if (count > double(limit)) return limit + 1;
  }
  return static_cast<int64_t>(count + 0.5);
}

double affinity_upper_bound(const ExpertStatistics& stats, int32_t devices) {
  double bound = 0;
  for (size_t l = 0; l + 1 < stats.n_experts.size(); ++l) {
    const int32_t e_l = stats.n_experts[l], e_n = stats.n_experts[l + 1];
    double by_cols = 0, by_rows = 0;
    std::vector<double> v;
    for (int32_t p = 0; p < e_n; ++p) {
      v.clear();
      for (int32_t i = 0; i < e_l; ++i) v.push_back(stats.transition(int32_t(l), i, p));
      by_cols += top_sum(v, e_l / devices);
    }
    for (int32_t i = 0; i < e_l; ++i) {
      v.clear();
      for (int32_t p = 0; p < e_n; ++p) v.push_back(stats.transition(int32_t(l), i, p));
      by_rows += top_sum(v, e_n / devices);
    }
    bound += std::min(by_cols, by_rows);
  }
  return bound;
}

AffinityResult affinity_placement(const ExpertStatistics& stats, const Topology& topology,
                                  AffinityOptions options) {
  topology.validate();
  const int32_t g = topology.devices;
  check_divisible(stats.n_experts, g, "affinity");
  AffinityResult r;
  r.total = total_pairs(stats);
  bool small = !stats.n_experts.empty();
  for (int32_t e : stats.n_experts)
    small = small && balanced_assignments(e, g, options.exact_limit) <= options.exact_limit;
  DeviceAssignment best;
  if (small) {
    best = exact_assignment(stats, g);
    r.exact = true;
  } else {
    best = coordinate_ascent(stats, contiguous_assignment(stats.n_experts, g), g, options.max_passes);
    DeviceAssignment other = coordinate_ascent(stats, greedy_chain(stats, g), g, options.max_passes);
    if (colocated_pairs(stats, other) > colocated_pairs(stats, best)) best = std::move(other);
  }
  r.colocated = colocated_pairs(stats, best);
  r.upper_bound = r.exact ? r.colocated : affinity_upper_bound(stats, g);
  r.placement = to_placement(best, topology, "affinity");
  return r;
}

}  // namespace moescope::placement
