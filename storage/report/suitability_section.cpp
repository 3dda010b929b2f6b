#include "storage/report/suitability_section.h"

#include <fmt/format.h>

#include <cmath>

#include "storage/report/escape.h"
#include "storage/report/format.h"
#include "storage/report/svg_charts.h"

namespace moescope::storage::report {
namespace {

std::string cell(const std::string& text) {
  return "<td align=\"right\">" + xml_escape(text) + "</td>";
}

// "k" or "2k".
std::string times_k(int32_t multiple) {
  return multiple == 1 ? std::string("k") : fmt::format("{}k", multiple);
}

std::string srp_text(double v) {
  return std::isnan(v) ? std::string("-") : fmt::format("{:.3f}", v);
}

// The paper's model-level SRP(m) and SCH(m) (one global pool of k or 2k slots per layer in
// total), h* and SRP's floor against log2 m. No bound is drawn: OPT is in the table beside SCH.
Chart srp_chart(const policy::Suitability& s) {
  LineChartSpec spec;
  spec.x_title = "window m (log2 of tokens: 2 = 4, 4 = 16, 6 = 64, 8 = 256)";
  spec.y_title = "share";
  spec.y_percent = true;
  spec.x_lo = std::log2(double(s.windows.front()));
  spec.x_hi = std::max(spec.x_lo + 1, std::log2(double(s.windows.back())));
  Series srp{"SRP(m), model", "#1f77b4", false, {}};
  for (size_t i = 0; i < s.windows.size(); ++i) {
    srp.points.push_back({std::log2(double(s.windows[i])), s.srp[i].model});
  }
  spec.series.push_back(std::move(srp));
  for (size_t c = 0; c < s.capacities.size(); ++c) {
    const policy::CapacityPoint& p = s.capacities[c];
    Series sch{fmt::format("SCH(m, {}), model", times_k(p.multiple)), series_color(c + 1), false,
               {}};
    for (size_t i = 0; i < s.windows.size(); ++i) {
      sch.points.push_back({std::log2(double(s.windows[i])), p.sch[i].model});
    }
    spec.series.push_back(std::move(sch));
  }
  auto flat = [&](std::string name, std::string color, double y) {
    return Series{std::move(name), std::move(color), true, {{spec.x_lo, y}, {spec.x_hi, y}}};
  };
  spec.series.push_back(flat("SRP floor 2k/(n+k)", "#7f7f7f", s.uniform_srp));
  spec.series.push_back(
      flat(fmt::format("break-even ({})", s.link_name), "#d62728", s.break_even.hit_rate));
  return line_chart(spec);
}

}  // namespace

ReportSection suitability_section(const ReportData& d) {
  ReportSection sec{"suitability", "Offloading suitability", {}};
  const SuitabilitySection& in = d.suitability;
  if (!in.result) {
    sec.blocks.push_back({ReportBlock::Kind::kHtml,
                          "<p>No suitability analysis: " + xml_escape(in.error) + ".</p>\n"});
    return sec;
  }
  const policy::Suitability& s = *in.result;
  std::string html =
      fmt::format("<p id=\"suitability-verdict\" data-verdict=\"{}\"><b>{}</b></p>\n<ul>\n",
                  xml_escape(policy::verdict_name(s.verdict)), xml_escape(s.verdict_text));
  for (const std::string& r : s.reasons) html += "<li>" + xml_escape(r) + "</li>\n";
  html += "</ul>\n";

  // Model level (the paper's values): one global pool of k (2k) slots per layer in total, so LRU
  // and OPT (demand MIN, the bound of every demand policy of that pool) sit beside SCH.
  html +=
      "<table class=\"grid\" id=\"suitability-table\" cellspacing=\"0\" cellpadding=\"4\">\n<tr>"
      "<th>segment m</th><th>SRP(m), model</th>";
  for (const policy::CapacityPoint& c : s.capacities) {
    html += fmt::format("<th>SCH(m, {}), model: one pool of {}</th>", times_k(c.multiple),
                        c.total_slots);
  }
  html += "</tr>\n";
  for (size_t i = 0; i < s.windows.size(); ++i) {
    html += fmt::format("<tr class=\"srp-row\" data-m=\"{}\"><td>{}</td>{}", s.windows[i],
                        s.windows[i], cell(srp_text(s.srp[i].model)));
    for (const policy::CapacityPoint& c : s.capacities) html += cell(format_percent(c.sch[i].model));
    html += "</tr>\n";
  }
  html += "<tr><td>LRU, one pool</td><td></td>";
  for (const policy::CapacityPoint& c : s.capacities) html += cell(format_percent(c.lru_global));
  html += "</tr>\n<tr class=\"bound-row\"><td>OPT (demand MIN), one pool</td><td></td>";
  for (const policy::CapacityPoint& c : s.capacities) html += cell(format_percent(c.opt_global));
  html += "</tr>\n</table>\n";

  // Per layer: every layer its own cache of k (2k) slots.
  html +=
      "<table class=\"grid\" id=\"suitability-per-layer\" cellspacing=\"0\" "
      "cellpadding=\"4\">\n<tr><th>segment m</th>";
  for (const policy::CapacityPoint& c : s.capacities) {
    html += fmt::format("<th>SCH(m, {}), per-layer caches of {}</th>", times_k(c.multiple),
                        c.slots.front());
  }
  html += "</tr>\n";
  for (size_t i = 0; i < s.windows.size(); ++i) {
    html += fmt::format("<tr><td>{}</td>", s.windows[i]);
    for (const policy::CapacityPoint& c : s.capacities)
      html += cell(format_percent(c.sch[i].per_layer_caches));
    html += "</tr>\n";
  }
  html += "<tr><td>LRU, per layer</td>";
  for (const policy::CapacityPoint& c : s.capacities) html += cell(format_percent(c.lru));
  html += "</tr>\n<tr class=\"bound-row\"><td>OPT (demand MIN), per layer</td>";
  for (const policy::CapacityPoint& c : s.capacities) html += cell(format_percent(c.opt));
  html += "</tr>\n</table>\n";

  const policy::BreakEven& b = s.break_even;
  html += fmt::format(
      "<p class=\"note\">SRP(m) (Liang et al. 2025, §3): for every segment of m consecutive tokens "
      "the experts routed at least j times are predicted for all m tokens; SRP is the best F1 "
      "over j of those predictions against the routing, pooled over segments and, at model "
      "level, over all layers (floor 2k/(n+k) = {:.3f}). SCH(m, C): hit rate of the cache that "
      "evicts the expert with the fewest uses in the segment [t, t+m); model level: one pool of "
      "C slots per layer in total. OPT is demand-paging MIN at the same pool and size: it bounds "
      "LRU and SCH, not a run with a prefetcher. Tokens are replayed one by one ({} tokens). "
      "Break-even on {}: h* = 1 - C / L = <span id=\"break-even\">{}</span>, with C = {} of "
      "compute per token ({}) and L = {} to load all its routed experts. Definitions and "
      "thresholds: docs/suitability.md.</p>\n",
      s.uniform_srp, format_count(s.tokens), xml_escape(s.link_name), format_percent(b.hit_rate),
      format_ms(int64_t(b.compute_ns_per_token)), policy::compute_origin_name(b.compute_origin),
      format_ms(int64_t(b.link_ns_per_token)));
  sec.blocks.push_back({ReportBlock::Kind::kHtml, html});
  const Chart chart = srp_chart(s);
  sec.blocks.push_back({ReportBlock::Kind::kSvg, chart.svg, chart.width, chart.height});
  return sec;
}

}  // namespace moescope::storage::report
