#include "storage/report/report_model.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "engine/common/error.h"
#include "engine/policy/access_stream.h"
#include "storage/trace_replay.h"
#include "storage/untrusted_json.h"

namespace moescope::storage::report {
namespace {

KeyNumbers key_numbers(const RunInfo& info, const std::vector<TokenRecord>& tokens) {
  KeyNumbers k;
  int64_t last_end = 0;
  for (const TokenRecord& t : tokens) {
    const bool decode = t.phase == Phase::kDecode;
    k.generated_tokens += decode;
    if (!t.forwarded) continue;
    (decode ? k.decode_tokens : k.prefill_tokens) += 1;
    last_end = std::max(last_end, t.end_ns);
    if (t.pos != t.chunk_first) continue;  // a forward call's time is booked on its first token
    const int64_t wall = std::max<int64_t>(0, t.end_ns - t.start_ns);
    k.wall_ns += wall;
    k.stall_ns += t.stall_ns;
    if (decode) k.decode_wall_ns += wall;
  }
  k.decode_tokens_per_s = k.decode_wall_ns > 0 ? k.decode_tokens / (k.decode_wall_ns / 1e9) : 0;
  k.stall_share = k.wall_ns > 0 ? double(k.stall_ns) / double(k.wall_ns) : 0;
  k.duration_ns = info.status == RunStatus::kComplete && info.ended_unix_ns > info.started_unix_ns
                      ? info.ended_unix_ns - info.started_unix_ns
                      : last_end;
  return k;
}

// Evenly spaced samples of the cumulative hit rate (the curve is smooth: its last point is kept).
void cumulative_curve(PolicyRow& row, int32_t max_points) {
  const std::vector<double> y = cumulative_hit_rate(row.report.token);
  if (y.empty()) return;
  const size_t n = y.size();
  const size_t stride = std::max<size_t>(1, (n + size_t(max_points) - 1) / size_t(max_points));
  for (size_t i = 0; i < n; i += stride) {
    row.cumulative_x.push_back(double(i));
    row.cumulative_y.push_back(y[i]);
  }
  if ((n - 1) % stride != 0) {
    row.cumulative_x.push_back(double(n - 1));
    row.cumulative_y.push_back(y[n - 1]);
  }
}

// Hit rate with c slots in every layer (capped at the layer's size), over all layers.
std::vector<double> per_layer_rates(const policy::CurveSet& set, int32_t max_experts) {
  std::vector<double> out;
  for (int32_t c = 0; c <= max_experts; ++c) {
    int64_t hits = 0, accesses = 0;
    for (const policy::HitCurve& h : set.per_layer) {
      hits += h.hits_at(std::min<size_t>(size_t(c), h.hits[0].size() - 1));
      accesses += h.total_accesses();
    }
    out.push_back(accesses ? double(hits) / double(accesses) : std::nan(""));
  }
  return out;
}

std::vector<double> global_rates(const policy::HitCurve& h) {
  std::vector<double> out;
  for (size_t c = 0; c < h.hits[0].size(); ++c) out.push_back(h.hit_rate(c));
  return out;
}

CapacityCurves capacity_curves(TraceReader& reader, int64_t run, const policy::MoeShape& shape,
                               const std::vector<PolicyRow>& policies) {
  CapacityCurves out;
  policy::AccessStream stream;
  {
    const policy::RoutingTrace trace = reader.routing_trace(run);
    if (trace.n_tokens() == 0 || shape.n_layers() == 0) return out;
    stream = recorded_access_stream(trace, reader.forward_calls(run));
  }
  // Most of a large report's time (about 1.5 s for 100k tokens x 32 layers).
  const policy::CurveSet lru = policy::lru_curves(stream, shape);
  const policy::CurveSet opt = policy::opt_curves(stream, shape);
  out.valid = true;
  out.max_experts = *std::max_element(shape.n_experts.begin(), shape.n_experts.end());
  out.total_experts = shape.total_experts();
  out.lru_per_layer = per_layer_rates(lru, out.max_experts);
  out.opt_per_layer = per_layer_rates(opt, out.max_experts);
  out.lru_global = global_rates(lru.global);
  out.opt_global = global_rates(opt.global);
  for (const PolicyRow& p : policies) {
    if (!p.description.primary) continue;
    try {
      out.budget_slots = p.description.capacity.total_slots(shape);
      if (out.total_experts > 0) {
        out.budget_percent = 100.0 * double(out.budget_slots) / double(out.total_experts);
      }
    } catch (const std::exception&) {
      // A capacity that does not fit the shape: no marker.
    }
  }
  return out;
}

std::vector<int32_t> busiest(const Matrix<int64_t>& counts, bool by_row, int32_t n, int32_t limit) {
  std::vector<int64_t> total(size_t(n), 0);
  for (int32_t r = 0; r < counts.rows; ++r) {
    for (int32_t c = 0; c < counts.cols; ++c) {
      const int32_t i = by_row ? r : c;
      if (i < n) total[size_t(i)] += counts.at(r, c);
    }
  }
  std::vector<int32_t> ids(static_cast<size_t>(n));
  std::iota(ids.begin(), ids.end(), 0);
  if (n <= limit) return ids;
  std::stable_sort(ids.begin(), ids.end(),
                   [&](int32_t a, int32_t b) { return total[size_t(a)] > total[size_t(b)]; });
  ids.resize(size_t(limit));
  std::sort(ids.begin(), ids.end());
  return ids;
}

// The tokens the text shows: the first `limit` in position order, or, with several requests, in
// request order (each request's in position order).
std::vector<const TokenRecord*> shown_tokens(const std::vector<TokenRecord>& all, bool per_request,
                                             int32_t limit) {
  std::vector<const TokenRecord*> order;
  order.reserve(all.size());
  for (const TokenRecord& t : all) order.push_back(&t);
  if (per_request) {
    std::stable_sort(order.begin(), order.end(), [](const TokenRecord* a, const TokenRecord* b) {
      return a->request < b->request;
    });
  }
  order.resize(std::min(order.size(), size_t(std::max(limit, 0))));
  return order;
}

void gather_tokens(TraceReader& reader, int64_t run, const std::vector<TokenRecord>& all,
                   const std::vector<PolicyRow>& policies, int32_t limit, ReportData& out) {
  out.requests = reader.requests(run);
  out.per_request = out.requests.size() > 1;
  const std::vector<const TokenRecord*> shown_list = shown_tokens(all, out.per_request, limit);
  const auto shown = int32_t(shown_list.size());
  out.total_tokens = int32_t(all.size());
  if (shown == 0) return;
  int32_t end = 0;
  for (const TokenRecord* t : shown_list) end = std::max(end, t->pos + 1);
  std::vector<int32_t> misses(size_t(end), 0);
  std::vector<std::string> paths(static_cast<size_t>(end));
  bool outcomes = false;
  int32_t last_layer = -1, last_pos = -1;
  for (const RoutingEntry& e : reader.routing(run, {0, end})) {
    if (e.pos < 0 || e.pos >= end) continue;
    std::string& path = paths[size_t(e.pos)];
    if (e.pos != last_pos || e.layer.value != last_layer) {
      path +=
          fmt::format("{}L{} {}", path.empty() ? "" : " \xC2\xB7 ", e.layer.value, e.expert.value);
    } else {
      path += fmt::format(",{}", e.expert.value);
    }
    last_pos = e.pos;
    last_layer = e.layer.value;
    outcomes = outcomes || e.cache != AccessOutcome::kNone;
    misses[size_t(e.pos)] += is_miss(e.cache);
  }
  out.misses_known = outcomes;
  if (outcomes) {
    out.misses_source = "cache outcomes of the routing entries (the primary cache)";
  } else if (!policies.empty()) {
    const PolicyRow& p = policies.front();
    for (int32_t pos = 0; pos < end && size_t(pos) < p.report.token.size(); ++pos) {
      misses[size_t(pos)] = int32_t(p.report.token[size_t(pos)].misses);
    }
    out.misses_known = true;
    out.misses_source = fmt::format("per-token counters of policy {}", p.description.spec);
  }
  for (const TokenRecord* shown_token : shown_list) {
    const TokenRecord& t = *shown_token;
    ReportToken r;
    r.pos = t.pos;
    r.request = t.request;
    r.text = t.text;
    r.decode = t.phase == Phase::kDecode;
    r.forwarded = t.forwarded;
    if (t.pos >= 0 && t.pos < end) {
      r.misses = misses[size_t(t.pos)];
      r.path = std::move(paths[size_t(t.pos)]);
    }
    out.max_token_misses = std::max(out.max_token_misses, r.misses);
    out.tokens.push_back(std::move(r));
  }
}

SuitabilitySection suitability_section_data(TraceReader& reader, int64_t run) {
  SuitabilitySection out;
  try {
    if (std::string why = reader.token_routing_unavailable(run); !why.empty()) {
      out.error = std::move(why);
      return out;
    }
    SuitabilityInputs in = suitability_inputs(reader, run);
    out.compute = in.compute;
    out.link = in.options.link.name;
    if (in.trace.n_tokens() == 0) {
      out.error = "the run has no forwarded tokens";
      return out;
    }
    out.result = policy::offloading_suitability(in.trace, in.options);
  } catch (const Error& e) {
    out.error = e.what();
  }
  return out;
}

}  // namespace

SuitabilityInputs suitability_inputs(TraceReader& reader, int64_t run) {
  SuitabilityInputs in;
  bool measured = false;
  for (const PolicyDescription& d : reader.policies(run)) {
    if (d.primary) measured = d.measured_compute;
  }
  in.compute = measured ? ComputeSource::kCache : ComputeSource::kLayerTimings;
  in.trace = reader.routing_trace(run, {.compute = in.compute});
  // The run's link when it emulated one; a run without one is judged for an NVMe SSD.
  in.options.link = policy::LinkModel::preset("nvme");
  const nlohmann::json settings = parse_untrusted_json(reader.run_info(run).settings_json);
  const nlohmann::json* link = nullptr;
  if (settings.is_object() && settings.contains("offload") && settings["offload"].is_object() &&
      settings["offload"].contains("link") && settings["offload"]["link"].is_object()) {
    link = &settings["offload"]["link"];
  }
  if (link && link->value("name", std::string()) != "none" &&
      link->value("bandwidth_bytes_per_s", nlohmann::json()).is_number() &&
      link->value("latency_ns", nlohmann::json()).is_number()) {
    policy::LinkModel l;
    l.name = link->value("name", std::string("custom"));
    l.bandwidth_bytes_per_s = (*link)["bandwidth_bytes_per_s"].get<double>();
    l.latency_ns = (*link)["latency_ns"].get<int64_t>();
    if (std::isfinite(l.bandwidth_bytes_per_s) && l.bandwidth_bytes_per_s >= 0 &&
        l.latency_ns >= 0 && !l.unlimited()) {
      in.options.link = l;
    }
  }
  return in;
}

ReportData gather_report(TraceReader& reader, int64_t run, const ReportOptions& options) {
  reader.check_run(run);
  ReportData out;
  out.run = run;
  out.trace_path = reader.path().string();
  out.info = reader.run_info(run);
  for (RunSummary& s : reader.runs()) {
    if (s.id == run) out.summary = std::move(s);
  }
  out.prompts = reader.prompts(run);
  const policy::MoeShape shape = reader.shape(run);
  out.layer_experts = shape.n_experts;

  const std::vector<TokenRecord> tokens = reader.tokens(run);
  out.key = key_numbers(out.info, tokens);

  for (const PolicyDescription& d : reader.policies(run)) {
    PolicyRow row;
    row.description = d;
    row.report = reader.policy_report(run, d.id);
    cumulative_curve(row, options.max_curve_points);
    out.policies.push_back(std::move(row));
  }
  std::stable_partition(out.policies.begin(), out.policies.end(),
                        [](const PolicyRow& p) { return p.description.primary; });
  if (!out.policies.empty()) {
    const policy::CacheCounters total = out.policies.front().report.total();
    if (total.accesses > 0) out.key.hit_rate = total.hit_rate();
    out.key.bytes_loaded = total.bytes_loaded;
    out.key.hit_rate_policy = out.policies.front().description.spec;
  }

  out.experts = reader.expert_matrices(run);
  out.layers = reader.layer_aggregates(run);
  for (int32_t l = 0; l + 1 < shape.n_layers(); ++l) {
    AffinityGrid g;
    g.layer = l;
    g.matrix = reader.affinity(run, MoeLayerId(l));
    const int32_t limit = options.max_affinity_experts;
    g.rows = busiest(g.matrix.counts, true, shape.n_experts[size_t(l)], limit);
    g.cols = busiest(g.matrix.counts, false, shape.n_experts[size_t(l + 1)], limit);
    out.affinity_subset = out.affinity_subset || shape.n_experts[size_t(l)] > limit ||
                          shape.n_experts[size_t(l + 1)] > limit;
    out.affinity.push_back(std::move(g));
  }
  out.curves = capacity_curves(reader, run, shape, out.policies);
  out.suitability = suitability_section_data(reader, run);
  out.placement = placement_section_data(reader, run);
  gather_tokens(reader, run, tokens, out.policies, options.max_text_tokens, out);
  return out;
}

}  // namespace moescope::storage::report
