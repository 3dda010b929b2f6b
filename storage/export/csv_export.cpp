#include "storage/export/csv_export.h"

#include <limits>

#include "storage/counter_fields.h"
#include "storage/export/export_chunks.h"
#include "storage/export/text_out.h"

namespace moescope::storage {
namespace {

void counters_header(TextOut& out) {
  for (std::string_view name : counter_names()) out.print(",{}", name);
}

void counters_row(TextOut& out, const policy::CacheCounters& c) {
  for (CounterField f : kCounterFields) out.print(",{}", c.*f);
}

int64_t tokens_table(TraceReader& reader, int64_t run, const ExportOptions& options, TextOut& out) {
  out.put(
      "run,pos,token_id,text,phase,forwarded,chunk_first,start_ns,end_ns,compute_ns,stall_ns,"
      "request,step\n");
  int64_t rows = 0;
  for_each_chunk(reader, run, options, [&](TokenRange range) {
    for (const TokenRecord& t : reader.tokens(run, range)) {
      out.print("{},{},{},", run, t.pos, t.token_id);
      put_csv_field(out, t.text);
      // step is empty for a token that was not forwarded.
      out.print(",{},{},{},{},{},{},{},{},{}\n", phase_name(t.phase), t.forwarded ? 1 : 0,
                t.chunk_first, t.start_ns, t.end_ns, t.compute_ns, t.stall_ns, t.request,
                t.step >= 0 ? std::to_string(t.step) : std::string());
      ++rows;
    }
  });
  return rows;
}

int64_t routing_table(TraceReader& reader, int64_t run, const ExportOptions& options,
                      TextOut& out) {
  out.put("run,pos,layer,rank,expert,weight,logit,cache\n");
  int64_t rows = 0;
  for_each_chunk(reader, run, options, [&](TokenRange range) {
    for (const RoutingEntry& r : reader.routing(run, range)) {
      out.print("{},{},{},{},{},{},{},{}\n", run, r.pos, r.layer.value, r.rank, r.expert.value,
                r.weight, r.logit, access_outcome_name(r.cache));
      ++rows;
    }
  });
  return rows;
}

int64_t events_table(TraceReader& reader, int64_t run, const ExportOptions& options, TextOut& out) {
  out.put("run,pos,kind,layer,expert,bytes,wait_ns,t_ns\n");
  int64_t rows = 0;
  for_each_chunk(reader, run, options, [&](TokenRange range) {
    for (const CacheEvent& e : reader.cache_events(run, range)) {
      out.print("{},{},{},{},{},{},{},{}\n", run, e.pos, cache_event_kind_name(e.kind),
                e.layer.value, e.expert.value, e.bytes, e.wait_ns, e.t_ns);
      ++rows;
    }
  });
  return rows;
}

int64_t layers_table(TraceReader& reader, int64_t run, const ExportOptions& options, TextOut& out) {
  const policy::MoeShape shape = reader.shape(run);
  out.put("run,pos,layer,model_layer,n_tokens,compute_ns,stall_ns\n");
  int64_t rows = 0;
  for_each_chunk(reader, run, options, [&](TokenRange range) {
    for (const LayerTiming& t : reader.layer_timings(run, range)) {
      out.print("{},{},{},{},{},{},{}\n", run, t.pos, t.layer.value, shape.block(t.layer).value,
                t.n_tokens, t.compute_ns, t.stall_ns);
      ++rows;
    }
  });
  return rows;
}

// One row per policy, phase and layer, plus each phase's total (layer empty): the report.
int64_t policies_table(TraceReader& reader, int64_t run, TextOut& out) {
  out.put("run,policy,role,spec,prefetcher,report_policy,report_prefetcher,phase,layer");
  counters_header(out);
  out.put(",hit_rate\n");
  int64_t rows = 0;
  for (const PolicyDescription& p : reader.policies(run)) {
    const policy::CacheReport report = reader.policy_report(run, p.id);
    auto row = [&](Phase phase, int32_t layer, const policy::CacheCounters& c) {
      out.print("{},{},{},", run, p.id, p.primary ? "primary" : "shadow");
      for (const std::string* s : {&p.spec, &p.prefetcher, &report.policy, &report.prefetcher}) {
        put_csv_field(out, *s);
        out.put(',');
      }
      out.put(phase_name(phase));
      out.put(',');
      if (layer >= 0) out.print("{}", layer);
      counters_row(out, c);
      if (c.accesses > 0) {
        out.print(",{}\n", c.hit_rate());
      } else {
        out.put(",\n");
      }
      ++rows;
    };
    for (const Phase phase : {Phase::kPrefill, Phase::kDecode}) {
      row(phase, -1, report.phase[size_t(phase)]);
      const auto& layers = report.layer[size_t(phase)];
      for (size_t l = 0; l < layers.size(); ++l) row(phase, int32_t(l), layers[l]);
    }
  }
  return rows;
}

// Ordered by policy, then position; every position of the run, zeros included.
int64_t policy_tokens_table(TraceReader& reader, int64_t run, const ExportOptions& options,
                            TextOut& out) {
  out.put("run,policy,pos");
  counters_header(out);
  out.put('\n');
  const std::vector<PolicyDescription> policies = reader.policies(run);
  int64_t rows = 0;
  for (size_t p = 0; p < policies.size(); ++p) {
    ExportOptions each = options;
    if (options.progress) {
      const auto n = int64_t(policies.size());
      each.progress = [&, p, n](int64_t done, int64_t total) {
        options.progress(int64_t(p) * total + done, n * total);
      };
    }
    for_each_chunk(reader, run, each, [&](TokenRange range) {
      // Positions past the run's tokens (the last call) hold nothing a sound trace books.
      if (range.end == std::numeric_limits<int32_t>::max()) return;
      const std::vector<policy::CacheCounters> c = reader.policy_tokens(run, policies[p].id, range);
      for (size_t i = 0; i < c.size(); ++i) {
        out.print("{},{},{}", run, policies[p].id, range.begin + int32_t(i));
        counters_row(out, c[i]);
        out.put('\n');
        ++rows;
      }
    });
  }
  return rows;
}

}  // namespace

ExportStats write_csv(TraceReader& reader, int64_t run, CsvTable table,
                      const ExportOptions& options, std::ostream& os) {
  TextOut out(os);
  ExportStats stats;
  switch (table) {
    case CsvTable::kTokens:
      stats.records = tokens_table(reader, run, options, out);
      break;
    case CsvTable::kRouting:
      stats.records = routing_table(reader, run, options, out);
      break;
    case CsvTable::kEvents:
      stats.records = events_table(reader, run, options, out);
      break;
    case CsvTable::kLayers:
      stats.records = layers_table(reader, run, options, out);
      break;
    case CsvTable::kPolicies:
      stats.records = policies_table(reader, run, out);
      break;
    case CsvTable::kPolicyTokens:
      stats.records = policy_tokens_table(reader, run, options, out);
      break;
  }
  out.flush();
  stats.bytes = out.bytes();
  return stats;
}

}  // namespace moescope::storage
