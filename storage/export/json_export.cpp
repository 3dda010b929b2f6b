#include "storage/export/json_export.h"

#include <nlohmann/json.hpp>

#include "storage/counter_fields.h"
#include "storage/export/export_chunks.h"
#include "storage/export/text_out.h"
#include "storage/policy_json.h"
#include "storage/untrusted_json.h"

namespace moescope::storage {
namespace {

// A JSON text stored in the trace (settings, machine, ...), embedded as an object. The file is
// untrusted: anything that does not parse goes in as a string, so the document stays valid.
void put_raw_json(TextOut& out, const std::string& text) {
  if (text.empty()) {
    out.put("null");
    return;
  }
  const nlohmann::json j = parse_untrusted_json(text);
  if (j.is_discarded()) {
    put_json_string(out, text);
  } else {
    out.put(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }
}

void put_key(TextOut& out, std::string_view key) {
  put_json_string(out, key);
  out.put(':');
}

void put_counters(TextOut& out, const policy::CacheCounters& c) {
  out.put('{');
  const auto& names = counter_names();
  for (size_t i = 0; i < kCounterFields.size(); ++i) {
    if (i) out.put(',');
    put_key(out, names[i]);
    out.print("{}", c.*kCounterFields[i]);
  }
  out.put('}');
}

void run_object(TraceReader& reader, int64_t run, TextOut& out) {
  const RunInfo info = reader.run_info(run);
  const ModelDescription& m = info.model;
  out.print(R"("run":{{"id":{},"label":)", run);
  put_json_string(out, info.label);
  out.print(R"(,"status":"{}","started_unix_ns":{},"ended_unix_ns":{},"seed":{},)",
            run_status_name(info.status), info.started_unix_ns, info.ended_unix_ns, info.seed);
  put_key(out, "moescope_version");
  put_json_string(out, info.moescope_version);
  out.put(R"(,"model":{"path":)");
  put_json_string(out, m.path);
  out.put(R"(,"sha256":)");
  put_json_string(out, m.sha256);
  out.print(R"(,"file_bytes":{},"architecture":)", m.file_bytes);
  put_json_string(out, m.architecture);
  out.put(R"(,"name":)");
  put_json_string(out, m.name);
  out.put(R"(,"quantization":)");
  put_raw_json(out, m.quantization);
  out.print(R"(,"n_model_layers":{},"n_vocab":{},"gating":)", m.n_model_layers, m.n_vocab);
  put_json_string(out, m.gating);
  out.put(R"(},"settings":)");
  put_raw_json(out, info.settings_json);
  out.put(R"(,"machine":)");
  put_raw_json(out, info.machine_json);
  out.put(R"(,"summary":)");
  put_raw_json(out, info.summary_json);
  out.put('}');

  const policy::MoeShape& s = m.shape;
  out.put(R"(,"moe_layers":[)");
  for (int32_t l = 0; l < s.n_layers(); ++l) {
    const auto i = size_t(l);
    out.print(R"({}{{"layer":{},"model_layer":{},"n_experts":{},"top_k":{},"expert_bytes":{}}})",
              l ? "," : "", l, s.model_layer[i], s.n_experts[i], s.top_k[i], s.expert_bytes[i]);
  }
  out.put(']');
}

void prompts_array(TraceReader& reader, int64_t run, TextOut& out) {
  out.put(R"(,"prompts":[)");
  bool first = true;
  for (const PromptRecord& p : reader.prompts(run)) {
    out.print(R"({}{{"index":{},"first_pos":{},"n_tokens":{},"text":)", first ? "" : ",", p.index,
              p.first_pos, p.n_tokens);
    put_json_string(out, p.text);
    out.put('}');
    first = false;
  }
  out.put(']');
}

// A token's routing: {"experts": [[layer 0's], [layer 1's], ...], "weights": ..., "logits": ...,
// "cache": ...}, from its entries r[begin, end) (in layer and rank order).
void token_routing(TextOut& out, const std::vector<RoutingEntry>& r, size_t begin, size_t end,
                   int32_t n_layers) {
  auto arrays = [&](std::string_view key, auto&& put) {
    out.print(R"("{}":[)", key);
    size_t i = begin;
    for (int32_t l = 0; l < n_layers; ++l) {
      out.put(l ? ",[" : "[");
      for (size_t first = i; i < end && r[i].layer.value == l; ++i) {
        if (i > first) out.put(',');
        put(r[i]);
      }
      out.put(']');
    }
    out.put(']');
  };
  out.put('{');
  arrays("experts", [&](const RoutingEntry& e) { out.print("{}", e.expert.value); });
  out.put(',');
  arrays("weights", [&](const RoutingEntry& e) { put_json_number(out, e.weight); });
  out.put(',');
  arrays("logits", [&](const RoutingEntry& e) { put_json_number(out, e.logit); });
  out.put(',');
  arrays("cache",
         [&](const RoutingEntry& e) { out.print(R"("{}")", access_outcome_name(e.cache)); });
  out.put('}');
}

// A token's router candidates (schema 4): {"experts": [[layer 0's], ...], "scores": [[...], ...]},
// best first.
void token_candidates(TextOut& out, const RouterCandidates& c,
                      const std::vector<int64_t>& offsets) {
  auto arrays = [&](std::string_view key, auto&& put) {
    out.print(R"("{}":[)", key);
    for (size_t l = 0; l + 1 < offsets.size(); ++l) {
      out.put(l ? ",[" : "[");
      for (auto i = size_t(offsets[l]); i < size_t(offsets[l + 1]); ++i) {
        if (i > size_t(offsets[l])) out.put(',');
        put(i);
      }
      out.put(']');
    }
    out.put(']');
  };
  out.put('{');
  arrays("experts", [&](size_t i) { out.print("{}", c.experts[i].value); });
  out.put(',');
  arrays("scores", [&](size_t i) { put_json_number(out, c.scores[i]); });
  out.put('}');
}

int64_t tokens_array(TraceReader& reader, int64_t run, int32_t n_layers,
                     const ExportOptions& options, TextOut& out) {
  out.put(R"(,"tokens":[)");
  int64_t n = 0;
  // Runs under capacity-aware gating carry each token's top-2k router candidates.
  const bool with_candidates = reader.has_router_candidates(run);
  const std::vector<int64_t> offsets = router_candidate_offsets(reader.shape(run));
  for_each_chunk(reader, run, options, [&](TokenRange range) {
    const std::vector<TokenRecord> tokens = reader.tokens(run, range);
    const std::vector<RoutingEntry> routing = reader.routing(run, range);
    const std::vector<RouterCandidates> candidates =
        with_candidates ? reader.router_candidates(run, range) : std::vector<RouterCandidates>{};
    size_t at = 0, cand = 0;
    for (const TokenRecord& t : tokens) {
      out.print(R"({}{{"pos":{},"token_id":{},"text":)", n ? "," : "", t.pos, t.token_id);
      put_json_string(out, t.text);
      out.print(R"(,"phase":"{}","forwarded":{},"chunk_first":{},"start_ns":{},"end_ns":{},)"
                R"("compute_ns":{},"stall_ns":{},"request":{},"step":{},"routing":)",
                phase_name(t.phase), t.forwarded, t.chunk_first, t.start_ns, t.end_ns, t.compute_ns,
                t.stall_ns, t.request, t.step >= 0 ? std::to_string(t.step) : std::string("null"));
      while (at < routing.size() && routing[at].pos < t.pos) ++at;  // rows without a token
      size_t end = at;
      while (end < routing.size() && routing[end].pos == t.pos) ++end;
      if (end > at) {
        token_routing(out, routing, at, end, n_layers);
      } else {
        out.put("null");
      }
      at = end;
      if (with_candidates) {
        while (cand < candidates.size() && candidates[cand].pos < t.pos) ++cand;
        out.put(R"(,"candidates":)");
        if (cand < candidates.size() && candidates[cand].pos == t.pos) {
          token_candidates(out, candidates[cand], offsets);
        } else {
          out.put("null");
        }
      }
      out.put('}');
      ++n;
    }
  });
  out.put(']');
  return n;
}

void layer_timings_array(TraceReader& reader, int64_t run, int32_t n_layers,
                         const ExportOptions& options, TextOut& out) {
  out.put(R"(,"layer_timings":[)");
  bool first = true;
  ExportOptions quiet = options;
  quiet.progress = nullptr;
  for_each_chunk(reader, run, quiet, [&](TokenRange range) {
    const std::vector<LayerTiming> timings = reader.layer_timings(run, range);
    // The reader gives each call's layers in order, n_layers of them.
    for (size_t i = 0; i + size_t(n_layers) <= timings.size(); i += size_t(n_layers)) {
      out.print(R"({}{{"pos":{},"n_tokens":{},"compute_ns":[)", first ? "" : ",", timings[i].pos,
                timings[i].n_tokens);
      for (int32_t l = 0; l < n_layers; ++l)
        out.print("{}{}", l ? "," : "", timings[i + size_t(l)].compute_ns);
      out.put(R"(],"stall_ns":[)");
      for (int32_t l = 0; l < n_layers; ++l)
        out.print("{}{}", l ? "," : "", timings[i + size_t(l)].stall_ns);
      out.put("]}");
      first = false;
    }
  });
  out.put(']');
}

void cache_events_array(TraceReader& reader, int64_t run, const ExportOptions& options,
                        TextOut& out) {
  // Rows of the fields named once: ten million events stay a few hundred megabytes.
  out.put(R"(,"cache_event_fields":["pos","kind","layer","expert","bytes","wait_ns","t_ns"])");
  out.put(R"(,"cache_events":[)");
  bool first = true;
  ExportOptions quiet = options;
  quiet.progress = nullptr;
  for_each_chunk(reader, run, quiet, [&](TokenRange range) {
    for (const CacheEvent& e : reader.cache_events(run, range)) {
      out.print(R"({}[{},"{}",{},{},{},{},{}])", first ? "" : ",", e.pos,
                cache_event_kind_name(e.kind), e.layer.value, e.expert.value, e.bytes, e.wait_ns,
                e.t_ns);
      first = false;
    }
  });
  out.put(']');
}

void policies_array(TraceReader& reader, int64_t run, TextOut& out) {
  out.put(R"(,"policies":[)");
  bool first = true;
  for (const PolicyDescription& p : reader.policies(run)) {
    const policy::CacheReport r = reader.policy_report(run, p.id);
    out.print(R"({}{{"id":{},"role":"{}","spec":)", first ? "" : ",", p.id,
              p.primary ? "primary" : "shadow");
    put_json_string(out, p.spec);
    out.put(R"(,"prefetcher":)");
    put_json_string(out, p.prefetcher);
    out.put(R"(,"capacity":)");
    put_raw_json(out, capacity_to_json(p.capacity));
    out.put(R"(,"timing":)");
    put_raw_json(out, timing_to_json(p.timing, p.measured_compute));
    out.put(R"(,"report":{"policy":)");
    put_json_string(out, r.policy);
    out.put(R"(,"prefetcher":)");
    put_json_string(out, r.prefetcher);
    out.print(R"(,"end_ns":{},"phase":{{"prefill":)", r.end_ns);
    put_counters(out, r.phase[0]);
    out.put(R"(,"decode":)");
    put_counters(out, r.phase[1]);
    out.put(R"(},"layers":{)");
    for (const Phase phase : {Phase::kPrefill, Phase::kDecode}) {
      out.print(R"({}"{}":[)", phase == Phase::kPrefill ? "" : ",", phase_name(phase));
      const auto& layers = r.layer[size_t(phase)];
      for (size_t l = 0; l < layers.size(); ++l) {
        if (l) out.put(',');
        put_counters(out, layers[l]);
      }
      out.put(']');
    }
    // Per-token counters as rows of the fields named once.
    out.put(R"(}},"token_counter_fields":[)");
    const auto& names = counter_names();
    for (size_t i = 0; i < names.size(); ++i) {
      if (i) out.put(',');
      put_json_string(out, names[i]);
    }
    out.put(R"(],"token_counters":[)");
    for (size_t t = 0; t < r.token.size(); ++t) {
      out.put(t ? ",[" : "[");
      for (size_t i = 0; i < kCounterFields.size(); ++i)
        out.print("{}{}", i ? "," : "", r.token[t].*kCounterFields[i]);
      out.put(']');
    }
    out.put("]}");
    first = false;
  }
  out.put(']');
}

}  // namespace

ExportStats write_json(TraceReader& reader, int64_t run, const ExportOptions& options,
                       std::ostream& os) {
  TextOut out(os);
  const int32_t n_layers = reader.shape(run).n_layers();
  out.put(R"({"format":"moescope-run","format_version":1,"trace":)");
  put_json_string(out, reader.path().string());
  out.put(',');
  run_object(reader, run, out);
  prompts_array(reader, run, out);
  ExportStats stats;
  stats.records = tokens_array(reader, run, n_layers, options, out);
  layer_timings_array(reader, run, n_layers, options, out);
  cache_events_array(reader, run, options, out);
  policies_array(reader, run, out);
  out.put("}\n");
  out.flush();
  stats.bytes = out.bytes();
  return stats;
}

}  // namespace moescope::storage
