#include "storage/export/perfetto_export.h"

#include <algorithm>
#include <limits>
#include <span>
#include <string>
#include <vector>

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

// One run's rows read chunk by chunk, and the forward calls they hold.
struct CallChunk {
  TokenRange range;
  std::vector<TokenRecord> tokens;
  std::vector<LayerTiming> timings;
  std::vector<CacheEvent> events;               // the primary policy's; empty without one
  std::vector<policy::CacheCounters> counters;  // the primary policy's, one per position
  size_t ti = 0, ei = 0, tok = 0;               // read positions in timings, events, counters
};

// Writes one run's events track by track: the tokens track (a slice per forward call; a batched
// run's "steps" track, a slice per engine step naming its requests), a track per MoE layer (stall
// then compute slices, miss instants) and the occupancy and hit-rate counters. Each track keeps a
// cursor so that its slices never overlap.
class PerfettoRun {
 public:
  PerfettoRun(TextOut& out, int64_t run, const RunInfo& info, const PolicyDescription* primary_desc,
              const ExportOptions& options, bool batched)
      : out_(out),
        ev_(out, run),
        shape_(info.model.shape),
        L_(shape_.n_layers()),
        options_(options),
        batched_(batched),
        hit_rate_(primary_desc ? fmt::format("hit rate ({})", primary_desc->spec)
                               : std::string("hit rate")),
        cursor_(size_t(L_) + 2, std::numeric_limits<int64_t>::min()),
        missed_(static_cast<size_t>(L_)) {}

  // The process and thread names, and the tracks' order: tokens first, then the layers.
  void write_metadata(int64_t run, const RunInfo& info) {
    const std::string& model = info.model.name.empty() ? info.model.architecture : info.model.name;
    ev_.metadata("process_name", 0, "name",
                 info.label.empty() ? fmt::format("run {} ({})", run, model)
                                    : fmt::format("run {}: {} ({})", run, info.label, model));
    ev_.metadata("thread_name", kTokensTid, "name", batched_ ? "steps" : "tokens");
    ev_.sort_index(kTokensTid, 0);
    for (int32_t l = 0; l < L_; ++l) {
      ev_.metadata("thread_name", layer_tid(l), "name",
                   fmt::format("layer {} (block {})", l, shape_.model_layer[size_t(l)]));
      ev_.sort_index(layer_tid(l), l + 1);
    }
  }

  // Every forward call that starts in the chunk (a call's rows are keyed by its first position).
  void write_calls(CallChunk& c) {
    for (size_t i = 0; i < c.tokens.size(); ++i) {
      const TokenRecord& first = c.tokens[i];
      if (!first.forwarded || first.chunk_first != first.pos) continue;
      // This call's timings (rows keyed by the call's first position).
      while (c.ti < c.timings.size() && c.timings[c.ti].pos < first.pos) ++c.ti;
      const size_t t0 = c.ti;
      while (c.ti < c.timings.size() && c.timings[c.ti].pos == first.pos) ++c.ti;
      const int32_t n_tokens = c.ti > t0 ? c.timings[t0].n_tokens : 1;
      const int32_t call_end = first.pos + std::max(1, n_tokens);
      const bool emit = first.pos >= options_.positions.begin && first.pos < options_.positions.end;

      // The requests whose rows the call (a batched run's step) forwarded.
      std::vector<int32_t> requests;
      for (size_t j = i; j < c.tokens.size() && c.tokens[j].pos < call_end; ++j) {
        if (c.tokens[j].forwarded) requests.push_back(c.tokens[j].request);
      }
      std::sort(requests.begin(), requests.end());
      requests.erase(std::unique(requests.begin(), requests.end()), requests.end());

      write_call_slice(first, n_tokens, requests, emit);
      take_cache_events(c, first.pos, call_end);
      write_layer_slices(first, std::span(c.timings).subspan(t0, c.ti - t0), emit);
      write_counters(c, first, call_end, emit);
    }
  }

  int64_t count() const { return ev_.count(); }

 private:
  // The call's slice on the tokens track (a batched run: "step S: R requests, N rows").
  void write_call_slice(const TokenRecord& first, int32_t n_tokens,
                        const std::vector<int32_t>& requests, bool emit) {
    const int64_t call_start = std::max(first.start_ns, cursor_[size_t(kTokensTid)]);
    const int64_t call_dur = std::max<int64_t>(0, first.end_ns - call_start);
    if (emit) {
      const std::string name =
          batched_ ? fmt::format("step {}: {} request{}, {} rows", first.step, requests.size(),
                                 requests.size() == 1 ? "" : "s", n_tokens)
                   : call_name(first, n_tokens);
      ev_.slice(name, kTokensTid, call_start, call_dur);
      out_.print(R"(,"args":{{"pos":{},"token_id":{},"n_tokens":{},"phase":"{}","step":{},)",
                 first.pos, first.token_id, n_tokens, phase_name(first.phase), first.step);
      out_.put(R"("requests":[)");
      for (size_t k = 0; k < requests.size(); ++k) out_.print("{}{}", k ? "," : "", requests[k]);
      out_.put(R"(],"stall_us":)");
      put_us(out_, first.stall_ns);
      out_.put("}}");
    }
    cursor_[size_t(kTokensTid)] = call_start + call_dur;
  }

  // The call's cache events: the resident bytes and, per layer, the experts that missed.
  void take_cache_events(CallChunk& c, int32_t call_begin, int32_t call_end) {
    for (auto& m : missed_) m.clear();
    while (c.ei < c.events.size() && c.events[c.ei].pos < call_begin) ++c.ei;
    for (; c.ei < c.events.size() && c.events[c.ei].pos < call_end; ++c.ei) {
      const CacheEvent& e = c.events[c.ei];
      cache_seen_ = true;
      if (e.layer.value < 0 || e.layer.value >= L_) continue;
      const auto bytes = int64_t(shape_.expert_bytes[size_t(e.layer.value)]);
      switch (e.kind) {
        case CacheEventKind::kMiss:
          resident_ += bytes;
          missed_[size_t(e.layer.value)].push_back(e.expert.value);
          break;
        case CacheEventKind::kBypass:
          missed_[size_t(e.layer.value)].push_back(e.expert.value);
          break;
        case CacheEventKind::kPrefetchIssued:
          resident_ += bytes;
          break;
        case CacheEventKind::kEviction:
          resident_ -= bytes;
          break;
        default:
          break;
      }
    }
  }

  // Layers run one after the other and the last one's interval ends with the call.
  void write_layer_slices(const TokenRecord& first, std::span<const LayerTiming> timings,
                          bool emit) {
    int64_t total = 0;
    for (const LayerTiming& t : timings)
      total += std::max<int64_t>(0, t.compute_ns) + std::max<int64_t>(0, t.stall_ns);
    int64_t at = first.end_ns - total;
    for (const LayerTiming& t : timings) {
      if (t.layer.value < 0 || t.layer.value >= L_) continue;
      const auto l = size_t(t.layer.value);
      const int32_t tid = layer_tid(t.layer.value);
      const int64_t stall = std::max<int64_t>(0, t.stall_ns);
      const int64_t compute = std::max<int64_t>(0, t.compute_ns);
      at = std::max(at, cursor_[l + 2]);
      // The experts that missed, named at the start of the layer's interval.
      const auto& m = missed_[l];
      if (emit && options_.perfetto_misses && !m.empty()) {
        ev_.begin('i', m.size() == 1 ? "miss" : fmt::format("{} misses", m.size()), tid, at);
        out_.put(R"(,"s":"t","args":{"experts":[)");
        for (size_t k = 0; k < m.size(); ++k) out_.print("{}{}", k ? "," : "", m[k]);
        out_.put("]}}");
      }
      if (emit && stall > 0) {
        ev_.slice("stall", tid, at, stall);
        ev_.end();
        at += stall;
      }
      if (emit && compute > 0) {
        ev_.slice("compute", tid, at, compute);
        ev_.end();
        at += compute;
      }
      cursor_[l + 2] = at;
    }
  }

  // Counters at the end of the call: resident bytes and the primary policy's running hit rate.
  void write_counters(CallChunk& c, const TokenRecord& first, int32_t call_end, bool emit) {
    const int64_t ts = std::max(first.end_ns, counter_cursor_);
    counter_cursor_ = ts;
    if (emit && cache_seen_) {
      ev_.begin('C', "cache occupancy", 0, ts);
      out_.print(R"(,"args":{{"resident bytes":{}}}}})", resident_);
    }
    for (; c.tok < c.counters.size() && c.range.begin + int32_t(c.tok) < call_end; ++c.tok) {
      hits_ += c.counters[c.tok].hits;
      accesses_ += c.counters[c.tok].accesses;
    }
    if (emit && accesses_ > 0) {
      ev_.begin('C', hit_rate_, 0, ts);
      out_.put(R"(,"args":{"hit rate":)");
      put_json_number(out_, double(hits_) / double(accesses_));
      out_.put("}}");
    }
  }

  TextOut& out_;
  EventWriter ev_;
  const policy::MoeShape& shape_;
  const int32_t L_;
  const ExportOptions& options_;
  const bool batched_;  // several requests: the calls are the engine's steps
  const std::string hit_rate_;
  std::vector<int64_t> cursor_;  // per track: where its last slice ended
  int64_t counter_cursor_ = std::numeric_limits<int64_t>::min();
  int64_t resident_ = 0;
  bool cache_seen_ = false;  // occupancy only for a run that recorded its cache's events
  int64_t hits_ = 0, accesses_ = 0;
  std::vector<std::vector<int32_t>> missed_;  // per layer, the current call's missed experts
};

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
  const std::vector<PolicyDescription> policies = reader.policies(run);
  const int32_t primary = primary_policy(policies);
  const PolicyDescription* primary_desc = nullptr;
  for (const PolicyDescription& p : policies) {
    if (p.id == primary) primary_desc = &p;
  }

  out.put(R"({"displayTimeUnit":"ms","traceEvents":[)");
  const bool batched = reader.requests(run).size() > 1;
  PerfettoRun writer(out, run, info, primary_desc, options, batched);
  writer.write_metadata(run, info);

  const std::vector<int32_t> calls = reader.forward_calls(run);
  const int32_t extent = calls.empty() ? 0 : calls.back() + 1;
  for (const TokenRange range : call_ranges(calls, std::max(1, options.chunk_tokens))) {
    if (range.begin >= options.positions.end) break;
    CallChunk chunk;
    chunk.range = range;
    chunk.tokens = reader.tokens(run, range);
    chunk.timings = reader.layer_timings(run, range);
    if (primary_desc) chunk.events = reader.cache_events(run, range);
    if (primary >= 0 && range.end != std::numeric_limits<int32_t>::max()) {
      chunk.counters = reader.policy_tokens(run, primary, range);
    } else if (primary >= 0) {
      chunk.counters = reader.policy_tokens(run, primary, {range.begin, extent});
    }
    writer.write_calls(chunk);
    if (options.progress) options.progress(std::min(range.end, extent), extent);
  }
  out.put("\n]}\n");
  out.flush();
  return {writer.count(), out.bytes()};
}

}  // namespace moescope::storage
