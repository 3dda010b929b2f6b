#include "storage/report/placement_section.h"

#include "storage/report/placement_data.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "engine/common/error.h"
#include "engine/placement/model_hidden_size.h"
#include "engine/placement/routing_source.h"
#include "storage/report/escape.h"
#include "storage/report/format.h"
#include "storage/report/report_model.h"
#include "storage/report/svg_charts.h"
#include "storage/trace_reader.h"

namespace moescope::storage::report {
namespace {

constexpr int32_t kDeviceCounts[] = {4, 8};

std::string cell(const std::string& text) {
  return "<td align=\"right\">" + xml_escape(text) + "</td>";
}

std::string number(double v, const char* spec) {
  return std::isfinite(v) ? fmt::format(fmt::runtime(spec), v) : std::string("-");
}

std::string study_table(const placement::Study& s) {
  std::string html = fmt::format(
      "<h3>{} devices</h3>\n<p class=\"note\">{}<br>{}<br>{}</p>\n"
      "<table class=\"grid placement-table\" data-devices=\"{}\" cellspacing=\"0\" "
      "cellpadding=\"4\">\n<tr><th>placement</th><th>balancedness</th><th>step balancedness</th>"
      "<th>straggler</th><th>same-device pairs</th><th>intra-node</th><th>inter-node</th>"
      "<th>modelled MoE time</th><th>note</th></tr>\n",
      s.options.topology.devices, xml_escape(s.describe_setup()), xml_escape(s.describe_split()),
      xml_escape(s.describe_model()), s.options.topology.devices);
  for (const placement::StudyEntry& e : s.entries) {
    const placement::PlacementMetrics& m = e.metrics;
    html += fmt::format("<tr class=\"placement-row\" data-algorithm=\"{}\"><td>{}</td>",
                        xml_escape(m.algorithm), xml_escape(m.algorithm));
    html += cell(number(m.balancedness(), "{:.3f}")) + cell(number(m.step_balancedness(), "{:.3f}")) +
            cell(number(m.step_straggler(), "{:.2f}")) + cell(format_percent(m.same_device_fraction())) +
            cell(format_bytes(m.intra_bytes())) + cell(format_bytes(m.inter_bytes())) +
            cell(format_ms(int64_t(m.time_ns()))) + "<td>" + xml_escape(e.note) + "</td></tr>\n";
  }
  return html + "</table>\n";
}

// Device x layer load of every placement, as shares of the layer's load.
std::vector<HeatGrid> load_grids(const placement::Study& s) {
  std::vector<HeatGrid> grids;
  for (const placement::StudyEntry& e : s.entries) {
    HeatGrid g;
    g.title = e.metrics.algorithm;
    const auto* layers = &e.metrics.layers;
    for (size_t l = 0; l < layers->size(); ++l) {
      g.row_labels.push_back(fmt::format("L{}", l));
      g.row_cells.push_back(int32_t((*layers)[l].device_load.size()));
    }
    auto share = [layers](int32_t r, int32_t c) {
      const std::vector<double>& load = (*layers)[size_t(r)].device_load;
      double sum = 0;
      for (double v : load) sum += v;
      return sum > 0 ? load[size_t(c)] / sum : std::nan("");
    };
    g.value = share;
    g.tooltip = [share, layers](int32_t r, int32_t c) {
      return fmt::format("layer {}, device {}: {:.0f} routed pairs ({:.1f} %)", r, c,
                         (*layers)[size_t(r)].device_load[size_t(c)], 100 * share(r, c));
    };
    g.x_title = "device";
    g.y_title = "MoE layer";
    grids.push_back(std::move(g));
  }
  return grids;
}

}  // namespace

PlacementSection placement_section_data(TraceReader& reader, int64_t run) {
  PlacementSection out;
  const RunInfo info = reader.run_info(run);
  const policy::RoutingTrace routing = reader.routing_trace(run);
  if (routing.n_tokens() == 0) {
    out.skipped.push_back("the run has no forwarded tokens");
    return out;
  }
  const placement::RecordedIds ids =
      placement::recorded_ids(reader.token_requests(run), reader.token_steps(run),
                              reader.forward_calls(run), routing.n_tokens());
  for (int32_t devices : kDeviceCounts) {
    placement::StudyOptions options;
    options.topology = {.devices = devices, .nodes = 1};
    if (const auto n = placement::model_hidden_size(info.model.path)) {
      options.sim.hidden = *n;
      options.hidden_origin = "hidden size of the model";
    } else {
      options.hidden_origin = "assumed: the model file is not readable";
    }
    try {
      out.studies.push_back(placement::run_study(
          {.routing = routing,
           .requests = ids.requests,
           .steps = ids.steps,
           .n_model_layers = info.model.n_model_layers,
           .label = fmt::format("run {}", run)},
          options));
    } catch (const Error& e) {
      out.skipped.push_back(fmt::format("{} devices: {}", devices, e.what()));
    }
  }
  return out;
}

ReportSection placement_section(const ReportData& d) {
  ReportSection sec{"placement", "Expert-parallel placement", {}};
  const PlacementSection& p = d.placement;
  std::string html =
      "<p class=\"note\">What if the run's routing were served with expert parallelism: "
      "contiguous (SGLang/vLLM default), DeepSeek EPLB, ExFlow affinity and a joint "
      "load+traffic placement, fitted on the first half of the run and evaluated on the held-out "
      "second half. Balancedness = mean / max device load; same-device pairs = a token's experts "
      "at consecutive layers on one device. Definitions: docs/placement.md; more options: "
      "<code>moescope placement</code>.</p>\n";
  for (const std::string& why : p.skipped) html += "<p>No study for " + xml_escape(why) + ".</p>\n";
  sec.blocks.push_back({ReportBlock::Kind::kHtml, html});
  for (const placement::Study& s : p.studies) {
    sec.blocks.push_back({ReportBlock::Kind::kHtml, study_table(s)});
    // The colour scale ends at the largest share any device takes of a layer.
    double hi = 0;
    for (const placement::StudyEntry& e : s.entries)
      for (const placement::LayerMetrics& l : e.metrics.layers) {
        double sum = 0, max = 0;
        for (double v : l.device_load) sum += v, max = std::max(max, v);
        if (sum > 0) hi = std::max(hi, max / sum);
      }
    const Chart chart = small_multiples_chart(
        load_grids(s),
        {ColorMap::kViridis, 0, hi > 0 ? hi : 1, "share of the layer's routed pairs", 2}, 14);
    sec.blocks.push_back({ReportBlock::Kind::kSvg, chart.svg, chart.width, chart.height});
  }
  return sec;
}

}  // namespace moescope::storage::report
