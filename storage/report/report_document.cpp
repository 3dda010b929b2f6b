#include "storage/report/report_document.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>

#include "storage/report/colors.h"
#include "storage/report/escape.h"
#include "storage/report/format.h"
#include "storage/report/report_charts.h"
#include "storage/report/placement_section.h"
#include "storage/report/suitability_section.h"
#include "storage/untrusted_json.h"

namespace moescope::storage::report {
namespace {

using nlohmann::json;

// A JSON object from the trace (untrusted): an empty object when it does not parse.
json parse_object(const std::string& text) {
  json j = parse_untrusted_json(text);
  return j.is_object() ? j : json::object();
}

// The value at a path of keys as display text; empty when absent.
std::string json_text(const json& root, std::initializer_list<const char*> keys) {
  const json* j = &root;
  for (const char* k : keys) {
    if (!j->is_object() || !j->contains(k)) return {};
    j = &(*j)[k];
  }
  if (j->is_null()) return {};
  if (j->is_string()) return j->get<std::string>();
  // Settings stored from floats (0.95f) print as 0.949999988: four significant digits suffice.
  if (j->is_number_float()) return fmt::format("{:.4g}", j->get<double>());
  return j->dump(-1, ' ', false, json::error_handler_t::replace);
}

using Rows = std::vector<std::pair<std::string, std::string>>;

// A two-column table; values are plain text (escaped here).
std::string kv_table(const Rows& rows) {
  std::string out = "<table class=\"kv\" cellspacing=\"0\" cellpadding=\"3\">\n";
  for (const auto& [k, v] : rows) {
    out += "<tr><th align=\"left\">" + xml_escape(k) + "</th><td>" +
           xml_escape(bounded_text(v, kMaxFieldBytes)) + "</td></tr>\n";
  }
  return out + "</table>\n";
}

std::string quantization_text(const std::string& quantization) {
  const json q = parse_object(quantization);
  std::string out;
  for (const auto& [type, use] : q.items()) {
    if (!out.empty()) out += ", ";
    const std::string tensors = json_text(use, {"tensors"});
    const std::string bytes = json_text(use, {"bytes"});
    out += fmt::format("{} {} tensors", type, tensors.empty() ? "?" : tensors);
    if (use.is_object() && use.contains("bytes") && use["bytes"].is_number()) {
      out += fmt::format(" ({})", format_bytes(use["bytes"].get<double>()));
    }
  }
  return out.empty() ? "-" : out;
}

std::string or_dash(const std::string& s) {
  return s.empty() ? "-" : s;
}

ReportSection header_section(const ReportData& d) {
  const RunInfo& info = d.info;
  const json settings = parse_object(info.settings_json);
  const json machine = parse_object(info.machine_json);
  const policy::MoeShape& shape = info.model.shape;
  int32_t max_experts = 0, max_k = 0;
  for (int32_t n : shape.n_experts) max_experts = std::max(max_experts, n);
  for (int32_t k : shape.top_k) max_k = std::max(max_k, k);

  std::string budget = json_text(settings, {"offload", "budget", "amount"});
  if (!budget.empty()) {
    const std::string unit = json_text(settings, {"offload", "budget", "unit"});
    budget = unit == "bytes" && settings["offload"]["budget"]["amount"].is_number()
                 ? format_bytes(settings["offload"]["budget"]["amount"].get<double>())
                 : budget + " " + unit;
  }
  if (!d.policies.empty() && d.curves.budget_percent) {
    budget += fmt::format("{}{} of {} experts ({:.1f} %)", budget.empty() ? "" : " = ",
                          d.curves.budget_slots, d.curves.total_experts, *d.curves.budget_percent);
  }
  const std::string sampling =
      fmt::format("temperature {}, top-k {}, top-p {}, min-p {}, repeat penalty {}",
                  or_dash(json_text(settings, {"generation", "temperature"})),
                  or_dash(json_text(settings, {"generation", "top_k"})),
                  or_dash(json_text(settings, {"generation", "top_p"})),
                  or_dash(json_text(settings, {"generation", "min_p"})),
                  or_dash(json_text(settings, {"generation", "repeat_penalty"})));
  std::string machine_text = or_dash(json_text(machine, {"hostname"}));
  for (const char* k : {"os", "cpu", "simd"}) {
    const std::string v = json_text(machine, {k});
    if (!v.empty()) machine_text += ", " + v;
  }
  const std::string cores = json_text(machine, {"logical_cores"});
  if (!cores.empty()) machine_text += ", " + cores + " logical cores";
  if (machine.contains("memory_bytes") && machine["memory_bytes"].is_number()) {
    machine_text += ", " + format_bytes(machine["memory_bytes"].get<double>()) + " memory";
  }
  std::string policies;
  for (const PolicyRow& p : d.policies) {
    if (!policies.empty()) policies += ", ";
    policies += p.description.spec + (p.description.primary ? " (primary)" : "");
  }

  const std::string threads = json_text(settings, {"engine", "threads"});
  Rows run_rows = {
      {"Trace", d.trace_path},
      {"Run", fmt::format("{}{}", d.run, info.label.empty() ? "" : ": " + info.label)},
      {"Status", std::string(run_status_name(info.status))},
      {"Started", format_utc(info.started_unix_ns)},
      {"Duration", format_duration(d.key.duration_ns)},
      {"Recorded by", "MoEScope " + or_dash(info.moescope_version)},
      {"Machine", machine_text},
  };
  Rows model_rows = {
      {"Model file", info.model.path},
      {"SHA-256", or_dash(info.model.sha256)},
      {"Architecture",
       info.model.architecture + (info.model.name.empty() ? "" : " (" + info.model.name + ")")},
      {"Size", format_bytes(double(info.model.file_bytes))},
      {"Quantization", quantization_text(info.model.quantization)},
      {"Routed experts",
       fmt::format("{} MoE layers of {} blocks, {} experts, top-{}, gating {}", shape.n_layers(),
                   info.model.n_model_layers, max_experts, max_k, info.model.gating)},
  };
  Rows settings_rows = {
      {"Cache policy", or_dash(json_text(settings, {"offload", "policy"}))},
      {"Budget", or_dash(budget)},
      {"Prefetcher", or_dash(json_text(settings, {"offload", "prefetcher"}))},
      {"Link", or_dash(json_text(settings, {"offload", "link", "name"}))},
      {"Recorded policies", or_dash(policies)},
      {"Sampling", sampling},
      {"Seed", std::to_string(info.seed)},
      {"Threads, batch",
       fmt::format("{} threads, batch {}", threads == "0" ? "default" : or_dash(threads),
                   or_dash(json_text(settings, {"generation", "n_batch"})))},
  };

  if (info.imported()) {  // no model file: where the routing came from instead
    model_rows = {
        {"Imported from", info.source.path},
        {"Format", info.source.format},
        {"SHA-256", or_dash(info.source.sha256)},
        {"Size", format_bytes(double(info.source.bytes))},
        {"Routed experts",
         fmt::format("{} MoE layers of {} layers, {} experts, top-{} (no model file: router "
                     "weights, timings and expert sizes are not known)",
                     shape.n_layers(), info.model.n_model_layers, max_experts, max_k)},
        {"Routing", info.routing_detail == RoutingDetail::kCounts
                        ? "expert counts per step only: analyses that need each token's experts "
                          "in order (cache replay, affinity, capacity curves) cannot run"
                        : "every token's experts"},
    };
  }
  ReportSection s{"run", "Run, model and settings", {}};
  std::string html = "<h3>Run</h3>\n" + kv_table(run_rows) + "<h3>Model</h3>\n" +
                     kv_table(model_rows) + "<h3>Settings</h3>\n" + kv_table(settings_rows);
  for (const PromptRecord& p : d.prompts) {
    html += fmt::format("<h3>Prompt {} ({} tokens from position {})</h3>\n", p.index, p.n_tokens,
                        p.first_pos);
    html += "<p class=\"prompt\">" + xml_escape(bounded_text(p.text, kMaxPromptBytes)) + "</p>\n";
  }
  s.blocks.push_back({ReportBlock::Kind::kHtml, html});
  return s;
}

ReportSection key_section(const ReportData& d) {
  const KeyNumbers& k = d.key;
  std::vector<std::pair<std::string, std::string>> cards = {
      {"prefill tokens", format_count(k.prefill_tokens)},
      {"decode tokens", format_count(k.decode_tokens)},
      {"decode tokens/s", fmt::format("{:.1f}", k.decode_tokens_per_s)},
      {k.hit_rate_policy.empty() ? "hit rate" : "hit rate (" + k.hit_rate_policy + ")",
       k.hit_rate ? format_percent(*k.hit_rate) : "no cache"},
      {"stall share", format_percent(k.stall_share)},
      {"bytes loaded", k.bytes_loaded ? format_bytes(double(*k.bytes_loaded)) : "-"},
  };
  std::string html = "<table class=\"key\" cellspacing=\"6\" cellpadding=\"6\"><tr>\n";
  for (const auto& [label, value] : cards) {
    html += "<td class=\"card\"><span class=\"big\">" + xml_escape(value) +
            "</span><br/><span class=\"small\">" + xml_escape(label) + "</span></td>\n";
  }
  html += "</tr></table>\n";
  html += fmt::format(
      "<p class=\"note\">Forward calls took {} in all ({} decode); the engine waited {} for "
      "expert loads. Hit rate and bytes are the primary policy's totals over prefill and "
      "decode.</p>\n",
      xml_escape(format_duration(k.wall_ns)), xml_escape(format_duration(k.decode_wall_ns)),
      xml_escape(format_ms(k.stall_ns)));
  return {"key", "Key numbers", {{ReportBlock::Kind::kHtml, html}}};
}

std::string counters_cell(int64_t v) {
  return "<td align=\"right\">" + format_count(v) + "</td>";
}

ReportSection policy_section(const ReportData& d) {
  ReportSection s{"policies", "Policies", {}};
  if (d.policies.empty()) {
    s.blocks.push_back({ReportBlock::Kind::kHtml, "<p>The run recorded no cache policy.</p>\n"});
    return s;
  }
  std::string html =
      "<table class=\"grid\" id=\"policy-table\" cellspacing=\"0\" cellpadding=\"4\">\n<tr>"
      "<th>#</th><th>policy</th><th>prefetcher</th><th>role</th><th>hits</th><th>misses</th>"
      "<th>hit rate</th><th>prefetch used</th><th>prefetch wasted</th><th>bytes loaded</th>"
      "<th>modelled stall</th></tr>\n";
  for (const PolicyRow& p : d.policies) {
    const policy::CacheCounters t = p.report.total();
    html += fmt::format("<tr class=\"policy-row\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td>",
                        p.description.id, xml_escape(p.description.spec),
                        xml_escape(p.description.prefetcher),
                        p.description.primary ? "primary" : "shadow");
    html += counters_cell(t.hits) + counters_cell(t.misses);
    html += "<td align=\"right\">" + format_percent(t.accesses ? t.hit_rate() : NAN) + "</td>";
    html += counters_cell(t.prefetch_used) + counters_cell(t.prefetch_wasted);
    html += fmt::format("<td align=\"right\" data-bytes=\"{}\">{}</td>", t.bytes_loaded,
                        format_bytes(double(t.bytes_loaded)));
    html += fmt::format("<td align=\"right\" data-ns=\"{}\">{}</td></tr>\n", t.stall_ns,
                        format_ms(t.stall_ns));
  }
  html +=
      "</table>\n<p class=\"note\">Every policy saw the same access stream; the primary one "
      "drove the real cache, shadows were simulated beside it. Stall is the link model's "
      "time compute waits for loads.</p>\n";
  s.blocks.push_back({ReportBlock::Kind::kHtml, html});
  return s;
}

ReportSection layer_section(const ReportData& d) {
  std::string html =
      "<table class=\"grid\" id=\"layer-table\" cellspacing=\"0\" cellpadding=\"4\">\n<tr>"
      "<th>MoE layer</th><th>block</th><th>experts</th><th>activations</th><th>hit rate</th>"
      "<th>compute</th><th>stall</th><th>fairness (Jain)</th><th>entropy</th>"
      "<th>hot set (80 %)</th></tr>\n";
  for (const LayerAggregate& a : d.layers) {
    html += fmt::format(
        "<tr><td>{}</td><td>{}</td><td align=\"right\">{}</td>{}<td align=\"right\">{}</td>"
        "<td align=\"right\">{}</td><td align=\"right\">{}</td><td align=\"right\">{:.3f}</td>"
        "<td align=\"right\">{:.2f} bits</td><td align=\"right\">{} of {}</td></tr>\n",
        a.layer.value, a.model_layer, a.n_experts, counters_cell(a.activations),
        format_percent(a.hit_rate()), format_ms(a.compute_ns), format_ms(a.stall_ns),
        a.jain_fairness, a.load_entropy_bits, a.hot_set_80, a.n_experts);
  }
  html +=
      "</table>\n<p class=\"note\">Fairness: Jain's index of the experts' activation counts "
      "(1 = perfectly even). Hot set: the fewest experts covering 80 % of the layer's "
      "activations.</p>\n";
  return {"layers", "Per layer", {{ReportBlock::Kind::kHtml, html}}};
}

// One token of the coloured text: its misses as the background, position and path on hover.
void append_token(std::string& text, const ReportToken& t, int32_t top) {
  const std::string color =
      t.misses > 0 ? color_at(ColorMap::kMisses, double(t.misses) / top) : std::string("#ffffff");
  const std::string tip =
      fmt::format("pos {} ({}), {} misses{}{}", t.pos, t.decode ? "decode" : "prompt", t.misses,
                  t.path.empty() ? "" : ": ", t.path);
  text +=
      fmt::format("<span class=\"t{}\" data-misses=\"{}\" style=\"background-color:{}\" title=\"",
                  t.decode ? "" : " p", t.misses, color);
  append_escaped(text, tip);
  text += "\">";
  append_escaped(text, bounded_text(t.text, kMaxFieldBytes));
  text += "</span>";
}

// "Request 3 (workload line 4): 40 tokens shown of 52" above a request's text.
std::string request_heading(const ReportData& d, int32_t request, size_t shown) {
  std::string where;
  int32_t total = 0;
  for (const RequestRecord& r : d.requests) {
    if (r.id != request) continue;
    total = r.n_tokens;
    const json source = parse_object(r.source_json);  // untrusted: {} when it does not parse
    const std::string line = json_text(source, {"line"});
    if (!line.empty()) where = " (workload line " + xml_escape(bounded_text(line, 20)) + ")";
  }
  return fmt::format(
      "<h3 class=\"request\" data-request=\"{}\">Request {}{}: {} tokens{}</h3>\n", request,
      request, where, format_count(int64_t(shown)),
      int32_t(shown) < total ? fmt::format(" shown of {}", format_count(total)) : "");
}

ReportSection text_section(const ReportData& d) {
  ReportSection s{"text", "Text coloured by cache misses", {}};
  const int32_t top = std::max(1, d.max_token_misses);
  std::string legend = "<p class=\"legend\">Misses per token: ";
  const int32_t steps = std::min(top, 8);
  for (int32_t i = 0; i <= steps; ++i) {
    const int32_t m = int32_t(std::lround(double(i) * top / steps));
    legend +=
        fmt::format("<span class=\"swatch\" style=\"background-color:{}\">&nbsp;{}&nbsp;</span> ",
                    color_at(ColorMap::kMisses, double(m) / top), m);
  }
  legend += "</p>\n";
  std::string note;
  if (!d.misses_known) {
    note = "<p class=\"note\">The run recorded no cache: every token shows 0 misses.</p>\n";
  } else {
    note = "<p class=\"note\">Misses from the " + xml_escape(d.misses_source) +
           ". A prefill chunk's loads are booked on the first token that needed each expert. "
           "Hover a token for its position and routing path. Prompt tokens are underlined.</p>\n";
  }
  std::string text;
  // A run of several requests (batched, imported): each request's text under its own heading.
  for (size_t i = 0; i < d.tokens.size();) {
    size_t j = i + 1;
    while (d.per_request && j < d.tokens.size() && d.tokens[j].request == d.tokens[i].request) ++j;
    if (!d.per_request) j = d.tokens.size();
    if (d.per_request) text += request_heading(d, d.tokens[i].request, j - i);
    text += "<div class=\"tokens\">";
    for (size_t k = i; k < j; ++k) append_token(text, d.tokens[k], top);
    text += "</div>\n";
    i = j;
  }
  if (int32_t(d.tokens.size()) < d.total_tokens) {
    text += fmt::format(
        "<p class=\"note truncated\">Showing the first {} of {} tokens; the other {} are in "
        "the trace.</p>\n",
        format_count(int64_t(d.tokens.size())), format_count(d.total_tokens),
        format_count(d.total_tokens - int64_t(d.tokens.size())));
  }
  s.blocks.push_back({ReportBlock::Kind::kHtml, legend + note + text});
  return s;
}

}  // namespace

ReportDocument build_document(const ReportData& d) {
  ReportDocument doc;
  doc.title = fmt::format("MoEScope report: run {}{}", d.run,
                          d.info.label.empty() ? "" : " (" + bounded_text(d.info.label, 80) + ")");
  doc.sections.push_back(header_section(d));
  doc.sections.push_back(key_section(d));
  doc.sections.push_back(heatmap_section(d));
  doc.sections.push_back(affinity_section(d));
  doc.sections.push_back(curves_section(d));
  doc.sections.push_back(suitability_section(d));
  doc.sections.push_back(placement_section(d));
  doc.sections.push_back(policy_section(d));
  doc.sections.push_back(layer_section(d));
  doc.sections.push_back(text_section(d));
  return doc;
}

}  // namespace moescope::storage::report
