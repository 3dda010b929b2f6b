// moescope replay --trace FILE [--run ID] [--policies a,b,...]
//                 [--capacities 10%,25%,N,... | --sweep] [--prefetch P] [--json] [--quiet]
// Replays a recorded run's routing through the cache simulator.
//  - Without --policies/--capacities/--sweep: every policy recorded with the run, replayed as it
//    ran (trace_replay.h), its recorded and replayed counters side by side with an "equal" column:
//    how a user checks that a trace reproduces.
//  - Otherwise a policy x capacity table: hit rate (decode and all), misses, bytes loaded and
//    modelled stall. Capacities are a share of all routed experts ("25%") or slots per MoE layer
//    ("4"); --sweep runs 1 slot per layer up to every expert, LRU and OPT from their one-pass
//    curves (stack_curves.h), the others simulated.
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "app/cli/command.h"
#include "app/cli/commands.h"
#include "app/cli/progress.h"
#include "app/cli/recording.h"
#include "app/cli/trace_options.h"
#include "engine/common/error.h"
#include "engine/offload/offload_config.h"
#include "engine/policy/allocators.h"
#include "engine/policy/policy_factory.h"
#include "engine/policy/prefetcher.h"
#include "engine/policy/simulator.h"
#include "engine/policy/stack_curves.h"
#include "storage/run_info.h"
#include "storage/trace_replay.h"

namespace moescope::cli {
namespace {

// A capacity as the user wrote it: a share of all routed experts, or slots per MoE layer.
struct CapacityArg {
  std::string label;
  double share = 0;             // > 0: this share of all experts
  int32_t slots_per_layer = 0;  // > 0: this many slots in every layer
  uint64_t total_slots = 0;     // > 0: this many slots in total (the recorded budget)
};

std::vector<std::string> split_list(const QString& text) {
  std::vector<std::string> out;
  for (const QString& part : text.split(',')) {
    const QString item = part.trimmed();
    if (item.isEmpty()) fail("'{}' has an empty entry", text.toStdString());
    out.push_back(item.toStdString());
  }
  return out;
}

std::vector<CapacityArg> parse_capacities(const QString& text) {
  std::vector<CapacityArg> out;
  for (const std::string& item : split_list(text)) {
    CapacityArg c;
    c.label = item;
    bool ok = false;
    if (const std::optional<double> share = policy::parse_share(item)) {
      c.share = *share;
    } else {
      const int n = QString::fromStdString(item).toInt(&ok);
      if (!ok || n < 1) {
        fail("'{}' is neither a share (25%) nor a number of slots per layer (4)", item);
      }
      c.slots_per_layer = n;
      c.label = fmt::format("{}/layer", n);
    }
    out.push_back(c);
  }
  return out;
}

policy::CacheCapacity make_capacity(const CapacityArg& c, const policy::PolicySpec& spec,
                                    const policy::MoeShape& shape) {
  const int32_t L = shape.n_layers();
  if (c.slots_per_layer > 0) {
    if (spec.pool == policy::PoolKind::kGlobal)
      return policy::CacheCapacity::global_slots(uint64_t(c.slots_per_layer) * uint64_t(L));
    std::vector<int32_t> slots;
    for (int32_t n : shape.n_experts) slots.push_back(std::min(n, c.slots_per_layer));
    return policy::CacheCapacity::per_layer(std::move(slots));
  }
  uint64_t total = c.total_slots;
  if (c.share > 0) total = policy::share_slots(c.share, shape);
  return policy::make_capacity(spec.pool, policy::Budget::slots(total), shape);
}

struct GridRow {
  std::string policy, prefetcher, capacity, method;
  uint64_t slots = 0;
  policy::CacheReport report;
  bool has_stall = true;  // one-pass curves count hits only
};

// LRU or OPT with c slots in every layer from the one-pass curves: hits and misses exact, bytes
// from the misses (no prefetcher, every miss loads one expert), no modelled time.
GridRow curve_row(const policy::CurveSet& curves, const policy::MoeShape& shape,
                  int32_t slots_per_layer) {
  GridRow row;
  row.has_stall = false;
  row.report.layer[0].resize(size_t(shape.n_layers()));
  row.report.layer[1].resize(size_t(shape.n_layers()));
  for (int32_t l = 0; l < shape.n_layers(); ++l) {
    const policy::HitCurve& h = curves.per_layer[size_t(l)];
    const size_t c = size_t(std::min(slots_per_layer, shape.n_experts[size_t(l)]));
    row.slots += c;
    for (int p = 0; p < 2; ++p) {
      policy::CacheCounters& k = row.report.layer[size_t(p)][size_t(l)];
      k.accesses = h.accesses[size_t(p)];
      k.hits = h.hits[size_t(p)][c];
      k.misses = k.accesses - k.hits;
      k.bytes_loaded = k.misses * int64_t(shape.bytes(MoeLayerId(l)));
      row.report.phase[size_t(p)] += k;
    }
  }
  return row;
}

std::string percent(const policy::CacheCounters& c) {
  return c.accesses ? fmt::format("{:.1f} %", 100.0 * c.hit_rate()) : std::string("-");
}

std::string ms(int64_t ns) {
  return fmt::format("{:.2f} ms", double(ns) / 1e6);
}

std::string capacity_text(const policy::CacheCapacity& c, const policy::MoeShape& shape) {
  if (c.pool == policy::PoolKind::kGlobal) {
    return c.in_bytes ? offload::format_bytes(c.global) + " pool"
                      : fmt::format("{} slots pool", c.global);
  }
  const bool uniform = std::all_of(c.layer_slots.begin(), c.layer_slots.end(),
                                   [&](int32_t s) { return s == c.layer_slots[0]; });
  return uniform && !c.layer_slots.empty() ? fmt::format("{}/layer", c.layer_slots[0])
                                           : fmt::format("{} slots", c.total_slots(shape));
}

// Replays every recorded policy; prints recorded vs replayed.
int replay_recorded(OpenedTrace& trace) {
  storage::TraceReader& reader = *trace.reader;
  const std::vector<storage::PolicyDescription> policies = reader.policies(trace.run);
  if (policies.empty()) {
    fail("run {} of {} recorded no cache policies: name some with --policies", trace.run,
         reader.path().string());
  }
  const policy::MoeShape shape = reader.shape(trace.run);
  Progress progress("replaying", int64_t(policies.size()), trace.quiet);
  QJsonArray rows;
  bool all_equal = true;
  std::vector<std::string> causes;  // policy-specific reasons why replays differ
  bool unexplained = false;         // a replay differs for no policy-specific reason
  std::string table =
      "| policy | role | prefetch | capacity | hit rate recorded | replayed | misses recorded | "
      "replayed | bytes recorded | replayed | stall recorded | replayed | equal |\n"
      "|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n";
  for (const storage::PolicyDescription& d : policies) {
    const policy::CacheReport recorded = reader.policy_report(trace.run, d.id);
    const policy::CacheReport replayed = storage::replay_recorded_policy(reader, trace.run, d.id);
    progress.advance();
    const bool equal = recorded == replayed;
    all_equal = all_equal && equal;
    const std::string cause = equal ? "" : storage::replay_mismatch_cause(reader, trace.run, d);
    if (!equal && !cause.empty()) causes.push_back(cause);
    unexplained = unexplained || (!equal && cause.empty());
    const char* role = d.primary ? "primary" : "shadow";
    QJsonObject row{{"id", d.id},
                    {"role", role},
                    {"spec", QString::fromStdString(d.spec)},
                    {"prefetcher", QString::fromStdString(d.prefetcher)},
                    {"capacity_slots", qint64(d.capacity.total_slots(shape))},
                    {"recorded", cache_report_json(recorded)},
                    {"replayed", cache_report_json(replayed)},
                    {"equal", equal}};
    if (!equal) row["mismatch_cause"] = QString::fromStdString(cause);
    rows.append(row);
    const policy::CacheCounters a = recorded.total();
    const policy::CacheCounters b = replayed.total();
    table +=
        fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n", d.spec,
                    role, d.prefetcher, capacity_text(d.capacity, shape), percent(a), percent(b),
                    a.misses, b.misses, offload::format_bytes(uint64_t(a.bytes_loaded)),
                    offload::format_bytes(uint64_t(b.bytes_loaded)), ms(a.stall_ns), ms(b.stall_ns),
                    equal ? "yes" : "NO");
  }
  progress.finish();
  // Why replays differ: a complete run of this very version must reproduce its counters, so a
  // difference there means the file was changed after recording (damage), not "another version".
  const storage::RunInfo info = reader.run_info(trace.run);
  std::string why;
  bool damaged = false;
  if (unexplained) {
    if (info.status == storage::RunStatus::kInterrupted) {
      why = "the run is interrupted: its recorded counters stop where the recording stopped";
    } else if (info.moescope_version != storage::moescope_version()) {
      why = fmt::format("the trace was recorded by MoEScope {}, this is {}", info.moescope_version,
                        storage::moescope_version());
    } else {
      damaged = true;
      why = "the trace is damaged: its recorded counters do not match the routing they were "
            "recorded on";
    }
    causes.push_back(why);
  }
  if (trace.json) {
    QJsonObject out{{"trace", QString::fromStdString(reader.path().string())},
                    {"run", qint64(trace.run)},
                    {"all_equal", all_equal},
                    {"policies", rows}};
    if (!all_equal) out["why"] = QString::fromStdString(fmt::format("{}", fmt::join(causes, "; ")));
    std::printf("%s", QJsonDocument(out).toJson().constData());
  } else {
    std::printf("run %lld of %s: recorded policies replayed from the trace's routing\n",
                static_cast<long long>(trace.run), reader.path().string().c_str());
    std::fputs(table.c_str(), stdout);
    if (all_equal) {
      std::printf("every policy reproduces its recorded counters exactly (all phases, layers, "
                  "tokens and modelled time)\n");
    } else {
      std::printf("some replays differ from what was recorded:\n");
      for (const std::string& c : causes) std::printf("  - %s\n", c.c_str());
    }
  }
  if (damaged) {
    fail("trace {} is damaged: run {}'s recorded policy counters do not match its routing",
         reader.path().string(), trace.run);
  }
  return kSuccess;
}

struct GridRequest {
  std::vector<std::string> policies;  // empty: the run's recorded policies
  std::vector<CapacityArg> capacities;
  bool sweep = false;
  std::string prefetcher = "none";
};

// The policies and capacities a grid replays: as asked, else the run's recorded policies (lru if
// none) at the budget it was recorded with (a quarter of the experts if none); --sweep: every
// capacity per layer.
void complete_grid_request(GridRequest& request,
                           const std::vector<storage::PolicyDescription>& recorded,
                           const storage::PolicyDescription* primary,
                           const policy::MoeShape& shape) {
  if (request.policies.empty()) {
    for (const storage::PolicyDescription& d : recorded) {
      if (std::find(request.policies.begin(), request.policies.end(), d.spec) ==
          request.policies.end())
        request.policies.push_back(d.spec);
    }
    if (request.policies.empty()) request.policies.push_back("lru");
  }
  if (request.sweep) {
    const int32_t max_experts = *std::max_element(shape.n_experts.begin(), shape.n_experts.end());
    for (int32_t c = 1; c <= max_experts; ++c)
      request.capacities.push_back({fmt::format("{}/layer", c), 0, c, 0});
  } else if (request.capacities.empty()) {
    // The budget the run was recorded with, else a quarter of the experts.
    if (primary != nullptr) {
      request.capacities.push_back(
          {"recorded", 0, 0, std::max<uint64_t>(1, primary->capacity.total_slots(shape))});
    } else {
      request.capacities.push_back({"25%", 0.25, 0, 0});
    }
  }
}

// Every policy at every capacity: simulated, or for LRU and OPT without a prefetcher in a sweep,
// read off the one-pass hit-rate curves.
std::vector<GridRow> replay_rows(const GridRequest& request,
                                 const std::vector<policy::PolicySpec>& specs,
                                 const policy::MoeShape& shape,
                                 const policy::RoutingTrace& routing,
                                 const std::shared_ptr<const policy::AccessStream>& stream,
                                 const policy::TimingModel& timing, bool quiet) {
  auto curve_kind = [&](const policy::PolicySpec& s) {
    return request.sweep && request.prefetcher == "none" && s.pool == policy::PoolKind::kPerLayer &&
           (s.kind == "lru" || s.kind == "opt");
  };
  int64_t work = 0;
  for (const policy::PolicySpec& s : specs)
    work += curve_kind(s) ? 1 : int64_t(request.capacities.size());
  Progress progress("replaying", work, quiet);
  std::vector<GridRow> rows;
  for (const policy::PolicySpec& spec : specs) {
    if (curve_kind(spec)) {
      const policy::CurveSet curves = spec.kind == "lru" ? policy::lru_curves(*stream, shape)
                                                         : policy::opt_curves(*stream, shape);
      progress.advance();
      for (const CapacityArg& c : request.capacities) {
        GridRow row = curve_row(curves, shape, c.slots_per_layer);
        row.policy = spec.text;
        row.prefetcher = "none";
        row.capacity = c.label;
        row.method = "one-pass curve";
        rows.push_back(std::move(row));
      }
      continue;
    }
    for (const CapacityArg& c : request.capacities) {
      const policy::CacheCapacity capacity = make_capacity(c, spec, shape);
      capacity.validate(shape);
      policy::CacheSimulator sim(shape, capacity, policy::make_policy(spec, {stream, nullptr}),
                                 policy::make_prefetcher(request.prefetcher, {}), timing, spec.text,
                                 request.prefetcher);
      GridRow row;
      row.policy = spec.text;
      row.prefetcher = request.prefetcher;
      row.capacity = c.label;
      row.method = "simulation";
      row.slots = capacity.total_slots(shape);
      row.report = policy::replay(routing, *stream, sim);
      rows.push_back(std::move(row));
      progress.advance();
    }
  }
  progress.finish();
  return rows;
}

void print_grid_json(const std::vector<GridRow>& rows, const storage::TraceReader& reader,
                     int64_t run, const policy::TimingModel& timing) {
  QJsonArray out_rows;
  for (const GridRow& r : rows) {
    const policy::CacheCounters total = r.report.total();
    QJsonObject row{{"policy", QString::fromStdString(r.policy)},
                    {"prefetcher", QString::fromStdString(r.prefetcher)},
                    {"capacity", QString::fromStdString(r.capacity)},
                    {"slots", qint64(r.slots)},
                    {"method", QString::fromStdString(r.method)},
                    {"hit_rate_decode", r.report.phase[1].hit_rate()},
                    {"hit_rate", total.hit_rate()},
                    {"accesses", qint64(total.accesses)},
                    {"hits", qint64(total.hits)},
                    {"misses", qint64(total.misses)},
                    {"bytes_loaded", qint64(total.bytes_loaded)},
                    {"prefill", cache_counters_json(r.report.phase[0])},
                    {"decode", cache_counters_json(r.report.phase[1])}};
    row["stall_ns"] = r.has_stall ? QJsonValue(qint64(total.stall_ns)) : QJsonValue();
    out_rows.append(row);
  }
  const QJsonObject out{{"trace", QString::fromStdString(reader.path().string())},
                        {"run", qint64(run)},
                        {"link", QString::fromStdString(timing.link.name)},
                        {"rows", out_rows}};
  std::printf("%s", QJsonDocument(out).toJson().constData());
}

void print_grid_table(const std::vector<GridRow>& rows, const storage::TraceReader& reader,
                      int64_t run, const policy::TimingModel& timing,
                      storage::ComputeSource compute) {
  std::printf("run %lld of %s, link %s%s\n", static_cast<long long>(run),
              reader.path().string().c_str(), timing.link.name.c_str(),
              compute == storage::ComputeSource::kCache ? ", measured layer compute" : "");
  std::printf(
      "| policy | prefetch | capacity | slots | hit decode | hit all | misses | bytes loaded | "
      "stall modelled |\n|---|---|---|---:|---:|---:|---:|---:|---:|\n");
  bool any_curve = false;
  for (const GridRow& r : rows) {
    const policy::CacheCounters total = r.report.total();
    any_curve = any_curve || !r.has_stall;
    std::printf("| %s | %s | %s | %llu | %s | %s | %lld | %s | %s |\n", r.policy.c_str(),
                r.prefetcher.c_str(), r.capacity.c_str(), static_cast<unsigned long long>(r.slots),
                percent(r.report.phase[1]).c_str(), percent(total).c_str(),
                static_cast<long long>(total.misses),
                offload::format_bytes(uint64_t(total.bytes_loaded)).c_str(),
                r.has_stall ? ms(total.stall_ns).c_str() : "-");
  }
  if (any_curve) {
    std::printf(
        "lru and opt rows come from one-pass hit-rate curves (exact hits, no modelled "
        "time)\n");
  }
}

int replay_grid(OpenedTrace& trace, GridRequest request) {
  storage::TraceReader& reader = *trace.reader;
  const std::vector<storage::PolicyDescription> recorded = reader.policies(trace.run);
  const storage::PolicyDescription* primary = nullptr;
  for (const storage::PolicyDescription& d : recorded) {
    if (d.primary) primary = &d;
  }
  const policy::MoeShape shape = reader.shape(trace.run);
  complete_grid_request(request, recorded, primary, shape);

  // Modelled time as the recording's live cache had it: its link and measured layer compute.
  policy::TimingModel timing;
  storage::ComputeSource compute = storage::ComputeSource::kLayerTimings;
  if (primary != nullptr) {
    timing = primary->timing;
    if (primary->measured_compute) compute = storage::ComputeSource::kCache;
  }
  std::vector<policy::PolicySpec> specs;
  for (const std::string& p : request.policies) specs.push_back(policy::parse_policy_spec(p));
  const policy::RoutingTrace routing =
      storage::routing_for_replay(reader, trace.run, compute, specs);
  auto stream = std::make_shared<const policy::AccessStream>(
      storage::recorded_access_stream(routing, reader.forward_calls(trace.run)));
  const std::vector<GridRow> rows =
      replay_rows(request, specs, shape, routing, stream, timing, trace.quiet);
  if (trace.json)
    print_grid_json(rows, reader, trace.run, timing);
  else
    print_grid_table(rows, reader, trace.run, timing, compute);
  return kSuccess;
}

}  // namespace

int run_replay(const QStringList& args) {
  QCommandLineParser parser;
  parser.setApplicationDescription(
      "Replay a recorded run's routing through the cache simulator. Without --policies, "
      "--capacities or --sweep: the run's own policies, recorded vs replayed counters.");
  parser.addHelpOption();
  add_trace_options(parser);
  parser.addOptions({
      {"policies", "Policies to replay, e.g. lru,lfu,opt,belady-bypass (docs/policies-cli.md).", "LIST"},
      {"capacities",
       "Cache sizes: a share of all routed experts (25%) or slots per MoE layer (4), e.g. "
       "10%,25%,4.",
       "LIST"},
      {"sweep", "Every capacity from 1 slot per layer up to all experts."},
      {"prefetch", "Prefetcher of the replayed policies (default none).", "P"},
  });
  if (const auto done = parse_command_line(parser, args)) return *done;
  auto usage = [](const QString& message) {
    print_error("replay: " + message);
    return kUsage;
  };
  if (!parser.positionalArguments().isEmpty())
    return usage("unexpected argument '" + parser.positionalArguments().first() + "'");

  GridRequest request;
  const bool grid = parser.isSet("policies") || parser.isSet("capacities") || parser.isSet("sweep");
  try {
    if (parser.isSet("capacities") && parser.isSet("sweep"))
      fail("give --capacities or --sweep, not both");
    if (parser.isSet("prefetch") && !grid)
      fail("--prefetch needs --policies, --capacities or --sweep");
    if (parser.isSet("policies")) {
      request.policies = split_list(parser.value("policies"));
      for (const std::string& p : request.policies) {
        const policy::PolicySpec spec = policy::parse_policy_spec(p);
        if (spec.needs_history)
          fail("policy '{}' is fitted on an earlier trace, which replay has none of", p);
      }
    }
    if (parser.isSet("capacities")) {
      try {
        request.capacities = parse_capacities(parser.value("capacities"));
      } catch (const Error& e) {
        fail("--capacities: {}", e.what());
      }
    }
    request.sweep = parser.isSet("sweep");
    if (parser.isSet("prefetch")) {
      request.prefetcher = parser.value("prefetch").trimmed().toStdString();
      if (policy::make_prefetcher(request.prefetcher, {})->inputs().router_probe)
        fail("--prefetch {} needs the engine's hidden states, which a trace does not hold",
             request.prefetcher);
    }
  } catch (const Error& e) {
    return usage(e.what());
  }

  try {
    OpenedTrace trace = open_trace(parser);
    // A counts-only import (an SGLang stat dump) has no token order to replay.
    if (const std::string why = trace.reader->token_routing_unavailable(trace.run); !why.empty())
      fail("replay: cannot replay: {}", why);
    return grid ? replay_grid(trace, std::move(request)) : replay_recorded(trace);
  } catch (const Error& e) {
    const bool bad_usage = trace_usage_error(parser);
    print_error(bad_usage ? QString("replay: ") + e.what() : QString(e.what()));
    return bad_usage ? kUsage : kFailure;
  }
}

}  // namespace moescope::cli
