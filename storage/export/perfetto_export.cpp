#include "storage/export/perfetto_export.h"

#include <algorithm>
#include <limits>

#include "storage/export/export_chunks.h"
#include "storage/export/text_out.h"

namespace moescope::storage {
namespace {

constexpr int32_t kTokensTid = 1;
int32_t layer_tid(int32_t layer) {
  return layer + 2;
}

class EventWriter {
 public:
  EventWriter(TextOut& out, int64_t pid) : out_(out), pid_(pid) {}

  // Opens an event: everything up to "ts"; the caller adds the rest and calls end().
  void begin(char ph, std::string_view name, int32_t tid, int64_t ts_ns) {
    out_.put(n_ ? ",\n{" : "\n{");
    out_.print(R"("ph":"{}","name":)", ph);
    put_json_string(out_, name);
    out_.print(R"(,"pid":{},"tid":{},"ts":)", pid_, tid);
    put_us(out_, ts_ns);
    ++n_;
  }
  void end() { out_.put('}'); }

  void metadata(std::string_view what, int32_t tid, std::string_view key, std::string_view name) {
    begin('M', what, tid, 0);
    out_.print(R"(,"args":{{"{}":)", key);
    put_json_string(out_, name);
    out_.put("}}");
  }
  void sort_index(int32_t tid, int32_t index) {
    begin('M', "thread_sort_index", tid, 0);
    out_.print(R"(,"args":{{"sort_index":{}}}}})", index);
  }
  // A complete slice.
  void slice(std::string_view name, int32_t tid, int64_t ts_ns, int64_t dur_ns) {
    begin('X', name, tid, ts_ns);
    out_.put(R"(,"dur":)");
    put_us(out_, dur_ns);
  }

  TextOut& out() { return out_; }
  int64_t count() const { return n_; }

 private:
  TextOut& out_;
  int64_t pid_;
  int64_t n_ = 0;
};

// Ranges of whole forward calls, about `chunk` positions each, then the rest of the run.
std::vector<TokenRange> call_ranges(const std::vector<int32_t>& calls, int32_t chunk) {
  std::vector<TokenRange> out;
  size_t i = 0;
  while (i < calls.size()) {
    size_t j = i + 1;
    while (j < calls.size() && calls[j] - calls[i] < chunk) ++j;
    if (j == calls.size()) break;
    out.push_back({calls[i], calls[j]});
    i = j;
  }
  out.push_back({i < calls.size() ? calls[i] : 0, std::numeric_limits<int32_t>::max()});
  return out;
}

std::string call_name(const TokenRecord& first, int32_t n_tokens) {
  if (first.phase == Phase::kPrefill || n_tokens > 1) {
    return fmt::format("prefill {} tokens", n_tokens);
  }
  if (!first.text.empty()) return first.text;
  return fmt::format("token {}", first.token_id);
}

}  // namespace

uint64_t capacity_bytes(const policy::CacheCapacity& capacity, const policy::MoeShape& shape) {
  if (capacity.pool == policy::PoolKind::kPerLayer) {
    uint64_t bytes = 0;
    for (int32_t l = 0; l < shape.n_layers() && size_t(l) < capacity.layer_slots.size(); ++l) {
      bytes +=
          uint64_t(std::max(0, capacity.layer_slots[size_t(l)])) * shape.expert_bytes[size_t(l)];
    }
    return bytes;
  }
  if (capacity.in_bytes) return capacity.global;
  const uint64_t largest =
      shape.expert_bytes.empty()
          ? 0
          : *std::max_element(shape.expert_bytes.begin(), shape.expert_bytes.end());
  return capacity.global * largest;
}

ExportStats write_perfetto(TraceReader& reader, int64_t run, const ExportOptions& options,
                           std::ostream& os) {
  TextOut out(os);
  const RunInfo info = reader.run_info(run);
  const policy::MoeShape& shape = info.model.shape;
  const int32_t L = shape.n_layers();
  const std::vector<PolicyDescription> policies = reader.policies(run);
  const int32_t primary = primary_policy(policies);
  const PolicyDescription* primary_desc = nullptr;
  for (const PolicyDescription& p : policies) {
    if (p.id == primary) primary_desc = &p;
  }

  out.put(R"({"displayTimeUnit":"ms","traceEvents":[)");
  EventWriter ev(out, run);
  const std::string& model = info.model.name.empty() ? info.model.architecture : info.model.name;
  ev.metadata("process_name", 0, "name",
              info.label.empty() ? fmt::format("run {} ({})", run, model)
                                 : fmt::format("run {}: {} ({})", run, info.label, model));
  ev.metadata("thread_name", kTokensTid, "name", "tokens");
  ev.sort_index(kTokensTid, 0);
  for (int32_t l = 0; l < L; ++l) {
    ev.metadata("thread_name", layer_tid(l), "name",
                fmt::format("layer {} (block {})", l, shape.model_layer[size_t(l)]));
    ev.sort_index(layer_tid(l), l + 1);
  }
  const std::string occupancy = "cache occupancy";
  const std::string hit_rate =
      primary_desc ? fmt::format("hit rate ({})", primary_desc->spec) : std::string("hit rate");

  const std::vector<int32_t> calls = reader.forward_calls(run);
  const int32_t extent = calls.empty() ? 0 : calls.back() + 1;
  std::vector<int64_t> cursor(size_t(L) + 2, std::numeric_limits<int64_t>::min());
  int64_t counter_cursor = std::numeric_limits<int64_t>::min();
  int64_t resident = 0;
  bool cache_seen = false;  // occupancy only for a run that recorded its cache's events
  int64_t hits = 0, accesses = 0;
  std::vector<std::vector<int32_t>> missed(static_cast<size_t>(L));

  for (const TokenRange range : call_ranges(calls, std::max(1, options.chunk_tokens))) {
    if (range.begin >= options.positions.end) break;
    const std::vector<TokenRecord> tokens = reader.tokens(run, range);
    const std::vector<LayerTiming> timings = reader.layer_timings(run, range);
    const std::vector<CacheEvent> events =
        primary_desc ? reader.cache_events(run, range) : std::vector<CacheEvent>{};
    std::vector<policy::CacheCounters> counters;
    if (primary >= 0 && range.end != std::numeric_limits<int32_t>::max()) {
      counters = reader.policy_tokens(run, primary, range);
    } else if (primary >= 0) {
      counters = reader.policy_tokens(run, primary, {range.begin, extent});
    }
    size_t ti = 0, ei = 0, tok = 0;
    for (const TokenRecord& first : tokens) {
      if (!first.forwarded || first.chunk_first != first.pos) continue;
      // This call's timings (rows keyed by the call's first position).
      while (ti < timings.size() && timings[ti].pos < first.pos) ++ti;
      const size_t t0 = ti;
      while (ti < timings.size() && timings[ti].pos == first.pos) ++ti;
      const int32_t n_tokens = ti > t0 ? timings[t0].n_tokens : 1;
      const int32_t call_end = first.pos + std::max(1, n_tokens);
      const bool emit = first.pos >= options.positions.begin && first.pos < options.positions.end;

      const int64_t call_start = std::max(first.start_ns, cursor[size_t(kTokensTid)]);
      const int64_t call_dur = std::max<int64_t>(0, first.end_ns - call_start);
      if (emit) {
        ev.slice(call_name(first, n_tokens), kTokensTid, call_start, call_dur);
        out.print(R"(,"args":{{"pos":{},"token_id":{},"n_tokens":{},"phase":"{}","stall_us":)",
                  first.pos, first.token_id, n_tokens, phase_name(first.phase));
        put_us(out, first.stall_ns);
        out.put("}}");
      }
      cursor[size_t(kTokensTid)] = call_start + call_dur;

      // The call's cache events: occupancy and misses.
      for (auto& m : missed) m.clear();
      while (ei < events.size() && events[ei].pos < first.pos) ++ei;
      for (; ei < events.size() && events[ei].pos < call_end; ++ei) {
        const CacheEvent& e = events[ei];
        cache_seen = true;
        if (e.layer.value < 0 || e.layer.value >= L) continue;
        const auto bytes = int64_t(shape.expert_bytes[size_t(e.layer.value)]);
        switch (e.kind) {
          case CacheEventKind::kMiss:
            resident += bytes;
            missed[size_t(e.layer.value)].push_back(e.expert.value);
            break;
          case CacheEventKind::kBypass:
            missed[size_t(e.layer.value)].push_back(e.expert.value);
            break;
          case CacheEventKind::kPrefetchIssued:
            resident += bytes;
            break;
          case CacheEventKind::kEviction:
            resident -= bytes;
            break;
          default:
            break;
        }
      }
      // Layers run one after the other and the last one's interval ends with the call.
      int64_t total = 0;
      for (size_t i = t0; i < ti; ++i)
        total +=
            std::max<int64_t>(0, timings[i].compute_ns) + std::max<int64_t>(0, timings[i].stall_ns);
      int64_t at = first.end_ns - total;
      for (size_t i = t0; i < ti; ++i) {
        const LayerTiming& t = timings[i];
        if (t.layer.value < 0 || t.layer.value >= L) continue;
        const auto l = size_t(t.layer.value);
        const int32_t tid = layer_tid(t.layer.value);
        const int64_t stall = std::max<int64_t>(0, t.stall_ns);
        const int64_t compute = std::max<int64_t>(0, t.compute_ns);
        at = std::max(at, cursor[l + 2]);
        // The experts that missed, named at the start of the layer's interval.
        const auto& m = missed[l];
        if (emit && options.perfetto_misses && !m.empty()) {
          ev.begin('i', m.size() == 1 ? "miss" : fmt::format("{} misses", m.size()), tid, at);
          out.put(R"(,"s":"t","args":{"experts":[)");
          for (size_t k = 0; k < m.size(); ++k) out.print("{}{}", k ? "," : "", m[k]);
          out.put("]}}");
        }
        if (emit && stall > 0) {
          ev.slice("stall", tid, at, stall);
          ev.end();
          at += stall;
        }
        if (emit && compute > 0) {
          ev.slice("compute", tid, at, compute);
          ev.end();
          at += compute;
        }
        cursor[l + 2] = at;
      }

      // Counters at the end of the call.
      const int64_t ts = std::max(first.end_ns, counter_cursor);
      counter_cursor = ts;
      if (emit && cache_seen) {
        ev.begin('C', occupancy, 0, ts);
        out.print(R"(,"args":{{"resident bytes":{}}}}})", resident);
      }
      for (; tok < counters.size() && range.begin + int32_t(tok) < call_end; ++tok) {
        hits += counters[tok].hits;
        accesses += counters[tok].accesses;
      }
      if (emit && accesses > 0) {
        ev.begin('C', hit_rate, 0, ts);
        out.put(R"(,"args":{"hit rate":)");
        put_json_number(out, double(hits) / double(accesses));
        out.put("}}");
      }
    }
    if (options.progress) options.progress(std::min(range.end, extent), extent);
  }
  out.put("\n]}\n");
  out.flush();
  return {ev.count(), out.bytes()};
}

}  // namespace moescope::storage
