#include "engine/placement/device_assignment.h"

#include <algorithm>
#include <cmath>

#include "engine/common/error.h"

namespace moescope::placement {
namespace {

using Grid = std::vector<std::vector<double>>;  // [experts][devices]

// Incremental state of the swap search for one assignment.
class SwapState {
 public:
  SwapState(const ExpertStatistics& stats, DeviceAssignment assignment, int32_t devices,
            const SearchWeights& w)
      : s_(stats), dev_(std::move(assignment)), g_(devices), w_(w) {
    const size_t layers = s_.n_experts.size();
    load_.assign(layers, std::vector<double>(size_t(g_), 0.0));
    recv_ = load_;
    in_.resize(layers);
    out_.resize(layers);
    col_.resize(layers);
    for (size_t l = 0; l < layers; ++l) {
      const int32_t e_l = s_.n_experts[l];
      for (int32_t e = 0; e < e_l; ++e) load_[l][size_t(dev_[l][size_t(e)])] += s_.load[l][size_t(e)];
      if (l > 0) {
        in_[l].assign(size_t(e_l), std::vector<double>(size_t(g_), 0.0));
        col_[l].assign(size_t(e_l), 0.0);
        for (int32_t i = 0; i < s_.n_experts[l - 1]; ++i)
          for (int32_t p = 0; p < e_l; ++p) {
            const double a = s_.transition(int32_t(l - 1), i, p);
            in_[l][size_t(p)][size_t(dev_[l - 1][size_t(i)])] += a;
            col_[l][size_t(p)] += a;
          }
        for (int32_t p = 0; p < e_l; ++p) {
          const int32_t g = dev_[l][size_t(p)];
          recv_[l][size_t(g)] += col_[l][size_t(p)] - in_[l][size_t(p)][size_t(g)];
        }
      }
      if (l + 1 < layers) {
        out_[l].assign(size_t(e_l), std::vector<double>(size_t(g_), 0.0));
        for (int32_t i = 0; i < e_l; ++i)
          for (int32_t p = 0; p < s_.n_experts[l + 1]; ++p)
            out_[l][size_t(i)][size_t(dev_[l + 1][size_t(p)])] += s_.transition(int32_t(l), i, p);
      }
    }
  }

  // Tries swapping experts p and q of layer l; applies the swap when it lowers the cost.
  bool try_swap(size_t l, int32_t p, int32_t q) {
    const int32_t a = dev_[l][size_t(p)], b = dev_[l][size_t(q)];
    if (a == b) return false;
    const double dl = s_.load[l][size_t(q)] - s_.load[l][size_t(p)];
    double ra = 0, rb = 0, na = 0, nb = 0;
    if (l > 0) {
      const auto& in = in_[l];
      ra = (col_[l][size_t(q)] - in[size_t(q)][size_t(a)]) - (col_[l][size_t(p)] - in[size_t(p)][size_t(a)]);
      rb = (col_[l][size_t(p)] - in[size_t(p)][size_t(b)]) - (col_[l][size_t(q)] - in[size_t(q)][size_t(b)]);
    }
    if (l + 1 < s_.n_experts.size()) {
      const auto& out = out_[l];
      na = out[size_t(p)][size_t(a)] - out[size_t(q)][size_t(a)];
      nb = out[size_t(q)][size_t(b)] - out[size_t(p)][size_t(b)];
    }
    double delta = w_.cross_weight * (ra + rb + na + nb);
    double secondary = 0;
    if (w_.max_weight > 0) {
      const auto [d0, s0] = layer_delta(l, a, b, dl, -dl, ra, rb);
      delta += w_.max_weight * d0;
      secondary += s0;
      if (l + 1 < s_.n_experts.size()) {
        const auto [d1, s1] = layer_delta(l + 1, a, b, 0, 0, na, nb);
        delta += w_.max_weight * d1;
        secondary += s1;
      }
    }
    const double scale = 1e-9 * (1 + std::abs(delta));
    if (!(delta < -scale || (std::abs(delta) <= scale && secondary < -1e-9))) return false;
    apply(l, p, q, a, b, dl, ra, rb, na, nb);
    return true;
  }

  DeviceAssignment take() { return std::move(dev_); }

 private:
  // Change of max_g(load + beta recv) of layer l (and of the sum of squares, the tie-breaker)
  // when devices a and b change by the given amounts.
  std::pair<double, double> layer_delta(size_t l, int32_t a, int32_t b, double la, double lb,
                                        double ra, double rb) const {
    double before = 0, after = 0, sq = 0;
    for (int32_t g = 0; g < g_; ++g) {
      const double c = load_[l][size_t(g)] + w_.beta * recv_[l][size_t(g)];
      double n = c;
      if (g == a) n += la + w_.beta * ra;
      if (g == b) n += lb + w_.beta * rb;
      before = std::max(before, c);
      after = std::max(after, n);
      sq += n * n - c * c;
    }
    return {after - before, sq};
  }

  void apply(size_t l, int32_t p, int32_t q, int32_t a, int32_t b, double dl, double ra,
             double rb, double na, double nb) {
    load_[l][size_t(a)] += dl;
    load_[l][size_t(b)] -= dl;
    if (l > 0) recv_[l][size_t(a)] += ra, recv_[l][size_t(b)] += rb;
    if (l + 1 < s_.n_experts.size()) {
      recv_[l + 1][size_t(a)] += na, recv_[l + 1][size_t(b)] += nb;
      for (int32_t r = 0; r < s_.n_experts[l + 1]; ++r) {
        const double d = s_.transition(int32_t(l), q, r) - s_.transition(int32_t(l), p, r);
        in_[l + 1][size_t(r)][size_t(a)] += d;
        in_[l + 1][size_t(r)][size_t(b)] -= d;
      }
    }
    if (l > 0)
      for (int32_t i = 0; i < s_.n_experts[l - 1]; ++i) {
        const double d =
            s_.transition(int32_t(l - 1), i, q) - s_.transition(int32_t(l - 1), i, p);
        out_[l - 1][size_t(i)][size_t(a)] += d;
        out_[l - 1][size_t(i)][size_t(b)] -= d;
      }
    dev_[l][size_t(p)] = b;
    dev_[l][size_t(q)] = a;
  }

  const ExpertStatistics& s_;
  DeviceAssignment dev_;
  int32_t g_;
  SearchWeights w_;
  std::vector<std::vector<double>> load_, recv_;  // [layers][devices]
  std::vector<Grid> in_, out_;                    // [layers][experts][devices]
  std::vector<std::vector<double>> col_;          // [layers][experts]
};

}  // namespace

void check_divisible(const std::vector<int32_t>& n_experts, int32_t devices, const char* what) {
  for (int32_t e : n_experts)
    if (e % devices != 0)
      fail("{} placement needs the {} experts of a layer to divide over {} devices", what, e,
           devices);
}

DeviceAssignment contiguous_assignment(const std::vector<int32_t>& n_experts, int32_t devices) {
  DeviceAssignment a;
  for (int32_t e_l : n_experts) {
    std::vector<int32_t> row(static_cast<size_t>(e_l));
    for (int32_t e = 0; e < e_l; ++e) row[size_t(e)] = e / (e_l / devices);
    a.push_back(std::move(row));
  }
  return a;
}

Placement to_placement(const DeviceAssignment& assignment, const Topology& topology,
                       const char* algorithm) {
  Placement p{.algorithm = algorithm, .topology = topology, .layers = {}};
  for (const std::vector<int32_t>& row : assignment)
    p.layers.push_back(layer_from_devices(row, topology.devices));
  return p;
}

double colocated_pairs(const ExpertStatistics& stats, const DeviceAssignment& assignment) {
  double sum = 0;
  for (size_t l = 0; l + 1 < stats.n_experts.size(); ++l)
    for (int32_t i = 0; i < stats.n_experts[l]; ++i)
      for (int32_t p = 0; p < stats.n_experts[l + 1]; ++p)
        if (assignment[l][size_t(i)] == assignment[l + 1][size_t(p)])
          sum += stats.transition(int32_t(l), i, p);
  return sum;
}

double total_pairs(const ExpertStatistics& stats) {
  double sum = 0;
  for (const std::vector<double>& a : stats.transitions)
    for (double v : a) sum += v;
  return sum;
}

double search_cost(const ExpertStatistics& stats, const DeviceAssignment& assignment,
                   int32_t devices, const SearchWeights& w) {
  double cost = 0;
  for (size_t l = 0; l < stats.n_experts.size(); ++l) {
    std::vector<double> c(static_cast<size_t>(devices), 0.0);
    for (int32_t e = 0; e < stats.n_experts[l]; ++e)
      c[size_t(assignment[l][size_t(e)])] += stats.load[l][size_t(e)];
    double cross = 0;
    if (l > 0)
      for (int32_t i = 0; i < stats.n_experts[l - 1]; ++i)
        for (int32_t p = 0; p < stats.n_experts[l]; ++p) {
          const int32_t g = assignment[l][size_t(p)];
          if (assignment[l - 1][size_t(i)] == g) continue;
          const double a = stats.transition(int32_t(l - 1), i, p);
          c[size_t(g)] += w.beta * a;
          cross += a;
        }
    cost += w.max_weight * *std::max_element(c.begin(), c.end()) + w.cross_weight * cross;
  }
  return cost;
}

DeviceAssignment local_search(const ExpertStatistics& stats, DeviceAssignment start,
                              int32_t devices, const SearchWeights& weights, int32_t max_passes) {
  SwapState state(stats, std::move(start), devices, weights);
  for (int32_t pass = 0; pass < max_passes; ++pass) {
    bool improved = false;
    for (size_t l = 0; l < stats.n_experts.size(); ++l)
      for (int32_t p = 0; p < stats.n_experts[l]; ++p)
        for (int32_t q = p + 1; q < stats.n_experts[l]; ++q) improved |= state.try_swap(l, p, q);
    if (!improved) break;
  }
  return state.take();
}

}  // namespace moescope::placement
