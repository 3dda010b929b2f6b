#include "engine/placement/ep_simulator.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "engine/common/error.h"

namespace moescope::placement {
namespace {

// Static dispatch: the device serving logical expert e for tokens whose home is device h.
std::vector<int32_t> dispatch_table(const LayerPlacement& layer, int32_t n_experts,
                                    const Topology& topo) {
  const LayerReplicas replicas(layer, n_experts);
  std::vector<int32_t> table(size_t(topo.devices) * size_t(n_experts));
  for (int32_t h = 0; h < topo.devices; ++h)
    for (int32_t e = 0; e < n_experts; ++e) {
      const std::vector<DeviceId>& where = replicas.devices[size_t(e)];
      int32_t chosen = -1;
      std::vector<int32_t> same_node;
      for (DeviceId d : where) {
        if (d.value == h) chosen = h;
        if (topo.node_of(d) == topo.node_of(DeviceId(h))) same_node.push_back(d.value);
      }
      if (chosen < 0 && !same_node.empty()) chosen = same_node[size_t(h) % same_node.size()];
      if (chosen < 0) chosen = where[size_t(h) % where.size()].value;
      table[size_t(h) * size_t(n_experts) + size_t(e)] = chosen;
    }
  return table;
}

// Per-placement running state.
struct Run {
  const Placement* placement = nullptr;
  std::vector<std::vector<int32_t>> table;  // [layers][home * E + e]
  PlacementMetrics metrics;
  // Current step, [layers][devices]: load, intra and inter messages sent.
  std::vector<std::vector<double>> load, intra, inter;
  std::vector<int64_t> loaded_steps;  // [layers] steps in which the layer had any load
};

class Simulator {
 public:
  Simulator(const RoutingSource& source, const std::vector<Placement>& placements,
            const SimOptions& options)
      : options_(options), n_experts_(source.n_experts()) {
    options.validate();
    for (const Placement& p : placements) {
      validate(p, n_experts_);
      Run run;
      run.placement = &p;
      const int32_t g = p.topology.devices;
      for (int32_t l = 0; l < source.n_layers(); ++l)
        run.table.push_back(dispatch_table(p.layers[size_t(l)], n_experts_[size_t(l)], p.topology));
      run.metrics.algorithm = p.algorithm;
      run.metrics.devices = g;
      run.metrics.layers.resize(n_experts_.size());
      for (LayerMetrics& lm : run.metrics.layers) lm.device_load.assign(size_t(g), 0.0);
      run.metrics.traffic.assign(size_t(g) * size_t(g), 0.0);
      run.load.assign(n_experts_.size(), std::vector<double>(size_t(g), 0.0));
      run.intra = run.inter = run.load;
      run.loaded_steps.assign(n_experts_.size(), 0);
      runs_.push_back(std::move(run));
    }
  }

  void token(const TokenRoute& t) {
    if (t.step != step_ || !in_step_) {
      if (in_step_) end_step();
      step_ = t.step;
      in_step_ = true;
    }
    for (Run& run : runs_) route(run, t);
    ++tokens_;
  }

  std::vector<PlacementMetrics> finish() {
    if (in_step_) end_step();
    std::vector<PlacementMetrics> out;
    for (Run& run : runs_) {
      run.metrics.tokens = tokens_;
      run.metrics.steps = steps_;
      for (size_t l = 0; l < run.metrics.layers.size(); ++l) {
        LayerMetrics& lm = run.metrics.layers[l];
        const double max = *std::max_element(lm.device_load.begin(), lm.device_load.end());
        double sum = 0;
        for (double v : lm.device_load) sum += v;
        lm.balancedness = max > 0 ? sum / double(lm.device_load.size()) / max
                                  : std::numeric_limits<double>::quiet_NaN();
        if (run.loaded_steps[l] > 0) {
          lm.step_balancedness /= double(run.loaded_steps[l]);
          lm.step_straggler /= double(run.loaded_steps[l]);
        } else {
          lm.step_balancedness = lm.step_straggler = std::numeric_limits<double>::quiet_NaN();
        }
      }
      out.push_back(std::move(run.metrics));
    }
    return out;
  }

 private:
  void route(Run& run, const TokenRoute& t) {
    const Topology& topo = run.placement->topology;
    const int32_t g = topo.devices;
    const int32_t home = static_cast<int32_t>(((t.request.value % g) + g) % g);
    const int32_t home_node = topo.node_of(DeviceId(home)).value;
    const double bytes = options_.token_bytes();
    if (device_mark_.size() < size_t(g)) {
      device_mark_.resize(size_t(g), 0);
      node_mark_.resize(size_t(g), 0);
      previous_count_.resize(size_t(g), 0);
    }
    previous_.clear();
    for (int32_t l = 0; l < static_cast<int32_t>(n_experts_.size()); ++l) {
      const auto experts = t.experts(l);
      const int32_t* table = run.table[size_t(l)].data() + size_t(home) * size_t(n_experts_[size_t(l)]);
      LayerMetrics& lm = run.metrics.layers[size_t(l)];
      devices_.clear();
      for (ExpertId e : experts) {
        const int32_t d = table[e.value];
        devices_.push_back(d);
        run.load[size_t(l)][size_t(d)] += 1;
        lm.device_load[size_t(d)] += 1;
      }
      if (l > 0) {
        // Pairs on one device = sum over devices of (previous layer's count x this layer's).
        LayerMetrics& prev = run.metrics.layers[size_t(l - 1)];
        for (int32_t a : previous_) ++previous_count_[size_t(a)];
        for (int32_t b : devices_) prev.same_device_pairs += previous_count_[size_t(b)];
        for (int32_t a : previous_) previous_count_[size_t(a)] = 0;
        prev.pairs += double(previous_.size()) * double(devices_.size());
      }
      // Distinct destinations: once per device on the home node, once per other node.
      ++epoch_;
      int32_t intra = 0, inter = 0;
      for (int32_t d : devices_) {
        if (device_mark_[size_t(d)] == epoch_) continue;
        device_mark_[size_t(d)] = epoch_;
        run.metrics.traffic[size_t(home) * size_t(g) + size_t(d)] += 1;
        if (d == home) continue;
        const int32_t n = topo.node_of(DeviceId(d)).value;
        if (n == home_node) {
          ++intra;
        } else if (node_mark_[size_t(n)] != epoch_) {
          node_mark_[size_t(n)] = epoch_;
          ++inter;
        }
      }
      lm.dispatch_intra_bytes += intra * bytes;
      lm.combine_intra_bytes += intra * bytes;
      lm.dispatch_inter_bytes += inter * bytes;
      lm.combine_inter_bytes += inter * bytes;
      run.intra[size_t(l)][size_t(home)] += intra;
      run.inter[size_t(l)][size_t(home)] += inter;
      std::swap(previous_, devices_);
    }
  }

  void end_step() {
    ++steps_;
    const double bytes = options_.token_bytes();
    for (Run& run : runs_) {
      for (size_t l = 0; l < n_experts_.size(); ++l) {
        std::vector<double>& load = run.load[l];
        LayerMetrics& lm = run.metrics.layers[l];
        double sum = 0, max = 0, link = 0;
        for (size_t d = 0; d < load.size(); ++d) {
          sum += load[d];
          max = std::max(max, load[d]);
          link = std::max(link, run.intra[l][d] * bytes / options_.intra_gbps +
                                    run.inter[l][d] * bytes / options_.inter_gbps);
        }
        if (max > 0) {
          const double mean = sum / double(load.size());
          lm.step_balancedness += mean / max;
          lm.step_straggler += max / mean;
          ++run.loaded_steps[l];
        }
        lm.dispatch_ns += link;  // bytes / (GB/s) = ns
        lm.combine_ns += link;
        lm.compute_ns += max * options_.expert_ns;
        std::fill(load.begin(), load.end(), 0.0);
        std::fill(run.intra[l].begin(), run.intra[l].end(), 0.0);
        std::fill(run.inter[l].begin(), run.inter[l].end(), 0.0);
      }
    }
  }

  SimOptions options_;
  std::vector<int32_t> n_experts_;
  std::vector<Run> runs_;
  std::vector<int32_t> devices_, previous_;
  // Scratch of route(), [devices]: marks of the current token-layer's destinations and nodes.
  std::vector<uint64_t> device_mark_, node_mark_;
  std::vector<double> previous_count_;
  uint64_t epoch_ = 0;
  int64_t step_ = 0, steps_ = 0, tokens_ = 0;
  bool in_step_ = false;
};

template <typename F>
double layer_mean(const std::vector<LayerMetrics>& layers, F f) {
  double sum = 0;
  int32_t n = 0;
  for (const LayerMetrics& l : layers) {
    const double v = f(l);
    if (std::isfinite(v)) sum += v, ++n;
  }
  return n ? sum / n : std::numeric_limits<double>::quiet_NaN();
}

}  // namespace

void SimOptions::validate() const {
  if (hidden < 1 || hidden > (int64_t(1) << 24)) fail("--hidden must be between 1 and 16777216");
  if (dtype_bytes < 1 || dtype_bytes > 8) fail("--dtype-bytes must be between 1 and 8");
  if (!(intra_gbps > 0) || !(inter_gbps > 0) || !std::isfinite(intra_gbps) ||
      !std::isfinite(inter_gbps))
    fail("link bandwidths must be positive");
  if (!(expert_ns >= 0) || !std::isfinite(expert_ns)) fail("--expert-ns must not be negative");
}

double PlacementMetrics::balancedness() const {
  return layer_mean(layers, [](const LayerMetrics& l) { return l.balancedness; });
}
double PlacementMetrics::step_balancedness() const {
  return layer_mean(layers, [](const LayerMetrics& l) { return l.step_balancedness; });
}
double PlacementMetrics::step_straggler() const {
  return layer_mean(layers, [](const LayerMetrics& l) { return l.step_straggler; });
}
double PlacementMetrics::intra_bytes() const {
  double s = 0;
  for (const LayerMetrics& l : layers) s += l.dispatch_intra_bytes + l.combine_intra_bytes;
  return s;
}
double PlacementMetrics::inter_bytes() const {
  double s = 0;
  for (const LayerMetrics& l : layers) s += l.dispatch_inter_bytes + l.combine_inter_bytes;
  return s;
}
double PlacementMetrics::same_device_fraction() const {
  double same = 0, pairs = 0;
  for (const LayerMetrics& l : layers) same += l.same_device_pairs, pairs += l.pairs;
  return pairs > 0 ? same / pairs : std::numeric_limits<double>::quiet_NaN();
}
double PlacementMetrics::time_ns() const {
  double s = 0;
  for (const LayerMetrics& l : layers) s += l.time_ns();
  return s;
}

std::vector<PlacementMetrics> simulate(const RoutingSource& source, TokenSpan span,
                                       const std::vector<Placement>& placements,
                                       const SimOptions& options) {
  Simulator sim(source, placements, options);
  source.visit(span, [&](const TokenRoute& t) { sim.token(t); });
  return sim.finish();
}

}  // namespace moescope::placement
