#include "storage/report/report_charts.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "storage/report/escape.h"
#include "storage/report/svg_charts.h"

namespace moescope::storage::report {
namespace {

ReportBlock svg_block(const Chart& chart) {
  return {ReportBlock::Kind::kSvg, chart.svg, chart.width, chart.height};
}

ReportBlock html_block(std::string html) {
  return {ReportBlock::Kind::kHtml, std::move(html)};
}

HeatGrid layer_expert_grid(const ReportData& d) {
  HeatGrid g;
  for (size_t l = 0; l < d.layer_experts.size(); ++l) {
    g.row_labels.push_back(fmt::format("L{}", l));
    g.row_cells.push_back(std::min(d.layer_experts[l], d.experts.activations.cols));
  }
  g.row_cells.resize(std::min<size_t>(g.row_cells.size(), size_t(d.experts.activations.rows)));
  g.row_labels.resize(g.row_cells.size());
  g.x_title = "expert";
  g.y_title = "MoE layer";
  return g;
}

}  // namespace

ReportSection heatmap_section(const ReportData& d) {
  ReportSection s{"heatmap", "Layer \xC3\x97 expert", {}};
  const ExpertMatrices& m = d.experts;
  int64_t max_act = 0;
  for (int64_t v : m.activations.values) max_act = std::max(max_act, v);

  HeatGrid act = layer_expert_grid(d);
  act.title = "Activations (times the router selected the expert)";
  act.value = [&m](int32_t r, int32_t c) { return double(m.activations.at(r, c)); };
  act.tooltip = [&m](int32_t r, int32_t c) {
    return fmt::format("layer {}, expert {}: {} activations, {} as first choice", r, c,
                       m.activations.at(r, c), m.top1.at(r, c));
  };
  s.blocks.push_back(svg_block(heatmap_chart(
      act, {ColorMap::kViridis, 0, double(std::max<int64_t>(1, max_act)), "activations", 0})));

  bool any_rate = false;
  for (double v : m.hit_rate.values) any_rate = any_rate || !std::isnan(v);
  if (any_rate) {
    HeatGrid rate = layer_expert_grid(d);
    rate.title = "Hit rate of the primary cache (grey: never accessed)";
    rate.value = [&m](int32_t r, int32_t c) { return m.hit_rate.at(r, c); };
    rate.tooltip = [&m](int32_t r, int32_t c) {
      const double v = m.hit_rate.at(r, c);
      return fmt::format(
          "layer {}, expert {}: {} hits, {} misses{}", r, c, m.hits.at(r, c), m.misses.at(r, c),
          std::isnan(v) ? std::string() : fmt::format(", hit rate {:.1f} %", 100 * v));
    };
    s.blocks.push_back(svg_block(heatmap_chart(rate, {ColorMap::kViridis, 0, 1, "hit rate", 1})));
  } else {
    s.blocks.push_back(
        html_block("<p class=\"note\">No cache outcomes were recorded: no hit-rate "
                   "heatmap.</p>\n"));
  }
  return s;
}

ReportSection affinity_section(const ReportData& d) {
  ReportSection s{"affinity", "Inter-layer affinity", {}};
  if (d.affinity.empty()) {
    s.blocks.push_back(html_block("<p>The model has a single MoE layer: no layer pairs.</p>\n"));
    return s;
  }
  std::vector<HeatGrid> grids;
  for (const AffinityGrid& a : d.affinity) {
    HeatGrid g;
    g.title = fmt::format("L{} \xE2\x86\x92 L{}", a.layer, a.layer + 1);
    const Matrix<double>& p = a.matrix.conditional;
    const Matrix<int64_t>& n = a.matrix.counts;
    for (size_t r = 0; r < a.rows.size(); ++r) {
      g.row_cells.push_back(int32_t(a.cols.size()));
      g.row_labels.push_back(std::to_string(a.rows[r]));
    }
    const auto inside = [&p, &n](int32_t e, int32_t f) {
      return e < p.rows && f < p.cols && e < n.rows && f < n.cols;
    };
    g.value = [&a, &p, inside](int32_t r, int32_t c) {
      const int32_t e = a.rows[size_t(r)], f = a.cols[size_t(c)];
      return inside(e, f) ? p.at(e, f) : std::nan("");
    };
    g.tooltip = [&a, &p, &n, inside](int32_t r, int32_t c) {
      const int32_t e = a.rows[size_t(r)], f = a.cols[size_t(c)];
      if (!inside(e, f)) return std::string();
      return fmt::format("P(expert {} at layer {} | expert {} at layer {}) = {:.3f} ({} pairs)", f,
                         a.layer + 1, e, a.layer, p.at(e, f), n.at(e, f));
    };
    grids.push_back(std::move(g));
  }
  int32_t max_side = 1;
  for (const AffinityGrid& a : d.affinity) {
    max_side = std::max({max_side, int32_t(a.rows.size()), int32_t(a.cols.size())});
  }
  const double cell = std::clamp(160.0 / max_side, 4.0, 10.0);
  s.blocks.push_back(html_block(
      "<p class=\"note\">P(e\xE2\x80\xB2 at layer l+1 | e at layer l): row e is an expert of layer "
      "l, column e\xE2\x80\xB2 one of layer l+1; each row sums to 1 over the pairs of experts one "
      "token selected at both layers." +
      std::string(d.affinity_subset ? " Layers with many experts show their busiest ones only "
                                      "(hover a cell for its experts)."
                                    : "") +
      "</p>\n"));
  s.blocks.push_back(svg_block(
      small_multiples_chart(grids, {ColorMap::kViridis, 0, 1, "P(e\xE2\x80\xB2 | e)", 1}, cell)));
  return s;
}

ReportSection curves_section(const ReportData& d) {
  ReportSection s{"curves", "Hit-rate curves", {}};
  if (!d.policies.empty()) {
    LineChartSpec spec;
    spec.x_title = "token position";
    spec.y_title = "cumulative hit rate";
    spec.y_percent = true;
    double x_hi = 1;
    for (size_t i = 0; i < d.policies.size(); ++i) {
      const PolicyRow& p = d.policies[i];
      Series series{p.description.spec +
                        (p.description.prefetcher != "none" ? " + " + p.description.prefetcher
                                                            : std::string()) +
                        (p.description.primary ? " (primary)" : ""),
                    series_color(i),
                    false,
                    {}};
      for (size_t j = 0; j < p.cumulative_x.size(); ++j) {
        series.points.push_back({p.cumulative_x[j], p.cumulative_y[j]});
        x_hi = std::max(x_hi, p.cumulative_x[j]);
      }
      spec.series.push_back(std::move(series));
    }
    spec.x_hi = x_hi;
    s.blocks.push_back(
        html_block("<h3>Cumulative hit rate over the run, every recorded policy</h3>\n"));
    s.blocks.push_back(svg_block(line_chart(spec)));
  }
  const CapacityCurves& c = d.curves;
  if (c.valid && c.max_experts > 0 && c.total_experts > 0) {
    LineChartSpec spec;
    spec.x_title = "capacity (% of the experts)";
    spec.y_title = "hit rate";
    spec.y_percent = true;
    spec.x_hi = 100;
    auto series = [](std::string name, std::string color, bool dashed,
                     const std::vector<double>& rates, double n) {
      Series out{std::move(name), std::move(color), dashed, {}};
      for (size_t i = 0; i < rates.size(); ++i)
        out.points.push_back({100.0 * double(i) / n, rates[i]});
      return out;
    };
    spec.series.push_back(
        series("LRU, per layer", "#1f77b4", false, c.lru_per_layer, c.max_experts));
    spec.series.push_back(
        series("OPT, per layer", "#1f77b4", true, c.opt_per_layer, c.max_experts));
    spec.series.push_back(
        series("LRU, one pool", "#ff7f0e", false, c.lru_global, double(c.total_experts)));
    spec.series.push_back(
        series("OPT, one pool", "#ff7f0e", true, c.opt_global, double(c.total_experts)));
    if (c.budget_percent) {
      spec.marker_x = *c.budget_percent;
      spec.marker_label = fmt::format("the run's budget ({} experts)", c.budget_slots);
    }
    s.blocks.push_back(html_block(
        "<h3>Hit rate against cache capacity, LRU and OPT (one pass, every capacity)</h3>\n"
        "<p class=\"note\">The run's access stream (prefill chunks as they ran) replayed at every "
        "capacity: per layer (the same share of slots in every layer) and as one pool. OPT "
        "(Belady) bounds what any policy can reach.</p>\n"));
    s.blocks.push_back(svg_block(line_chart(spec)));
  } else {
    s.blocks.push_back(html_block("<p>The run has no forwarded tokens: no capacity curves.</p>\n"));
  }
  return s;
}

}  // namespace moescope::storage::report
