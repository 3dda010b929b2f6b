#include "app/cli/offload_options.h"

#include <QJsonArray>

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "engine/common/error.h"
#include "engine/model/routing_trace_recorder.h"
#include "engine/policy/policy_factory.h"
#include "engine/policy/prefetcher.h"
#include "engine/policy/registry.h"
#include "engine/policy/stack_curves.h"

namespace moescope::cli {
namespace {

std::string value(const QCommandLineParser& parser, const char* name) {
  return parser.isSet(name) ? parser.value(name).toStdString() : std::string();
}

// The CLI has no earlier trace to fit on: policies, prefetchers and allocators that need one, and
// oracles driving the real cache, are usage errors.
void check_policy(const std::string& text, bool driving) {
  const policy::PolicySpec spec = policy::parse_policy_spec(text);
  if (spec.needs_history)
    fail("policy '{}' is fitted on an earlier trace, which the CLI has none of", text);
  if (driving && spec.oracle) {
    fail(
        "policy '{}' is an oracle: it reads the future, so it cannot drive a live cache (use "
        "--compare {} to evaluate it after the run)",
        text, text);
  }
}

struct Row {
  std::string policy, prefetcher;
  const char* run;  // "live", "shadow", "oracle"
  policy::CacheReport report;
  std::optional<int64_t> measured_stall_ns;  // the live row
};

double percent(int64_t part, int64_t whole) {
  return whole > 0 ? 100.0 * double(part) / double(whole) : 0.0;
}

std::string rate(const policy::CacheCounters& c) {
  return c.accesses ? fmt::format("{:.1f} %", 100.0 * c.hit_rate()) : std::string("-");
}

std::string ms(int64_t ns) {
  return fmt::format("{:.2f} ms", double(ns) / 1e6);
}

QJsonObject counters_json(const policy::CacheCounters& c) {
  return QJsonObject{{"accesses", qint64(c.accesses)},
                     {"hits", qint64(c.hits)},
                     {"misses", qint64(c.misses)},
                     {"bypasses", qint64(c.bypasses)},
                     {"evictions", qint64(c.evictions)},
                     {"hit_rate", c.hit_rate()},
                     {"bytes_loaded", qint64(c.bytes_loaded)},
                     {"stall_ns", qint64(c.stall_ns)},
                     {"prefetch_predicted", qint64(c.prefetch_predicted)},
                     {"prefetch_correct", qint64(c.prefetch_correct)},
                     {"prefetch_routed", qint64(c.prefetch_routed)},
                     {"prefetch_issued", qint64(c.prefetch_issued)},
                     {"prefetch_used", qint64(c.prefetch_used)},
                     {"prefetch_late", qint64(c.prefetch_late)},
                     {"prefetch_wasted", qint64(c.prefetch_wasted)},
                     {"prefetch_wasted_bytes", qint64(c.prefetch_wasted_bytes)},
                     {"precision", c.precision()},
                     {"recall", c.recall()}};
}

QJsonArray int_array(const std::vector<int64_t>& v) {
  QJsonArray a;
  for (int64_t x : v) a.append(qint64(x));
  return a;
}

// Capacities shown in the text table: all up to 16, else powers of two and the layer's size.
std::vector<int32_t> shown_capacities(int32_t n) {
  std::vector<int32_t> out;
  for (int32_t c = 1; c <= n; c = n <= 16 ? c + 1 : c * 2) out.push_back(c);
  if (out.empty() || out.back() != n) out.push_back(n);
  return out;
}

// printf into a string.
[[gnu::format(printf, 2, 3)]] void appendf(std::string& out, const char* format, ...) {
  va_list args, again;
  va_start(args, format);
  va_copy(again, args);
  const int n = std::vsnprintf(nullptr, 0, format, args);
  va_end(args);
  if (n > 0) {
    const size_t at = out.size();
    out.resize(at + size_t(n) + 1);
    std::vsnprintf(out.data() + at, size_t(n) + 1, format, again);
    out.resize(at + size_t(n));
  }
  va_end(again);
}

constexpr policy::EntryKind kPolicy = policy::EntryKind::kPolicy;
constexpr policy::EntryKind kPrefetcher = policy::EntryKind::kPrefetcher;

// The registry's names the CLI accepts here: without an earlier trace to fit on, and either the
// oracles (evaluated after the run) or the rest (that can drive it).
std::string cli_names(policy::EntryKind kind, bool oracles) {
  std::string out;
  for (const policy::RegistryEntry* e : policy::registry_entries(kind)) {
    if (e->needs == policy::Needs::kHistory || e->oracle() != oracles) continue;
    out += (out.empty() ? "" : ", ") + std::string(e->name);
  }
  return out;
}

}  // namespace

void add_offload_options(QCommandLineParser& parser) {
  parser.addOptions({
      {"expert-budget",
       "Offload routed experts: fast memory for them, e.g. 256MiB, or a share of them, e.g. 10%.",
       "BYTES"},
      {"expert-slots", "Offload routed experts: room for N experts in total.", "N"},
      {"policy",
       QString::fromStdString("Cache policy driving the real cache: " + cli_names(kPolicy, false) +
                              " (default lru; `moescope policies`)."),
       "P"},
      {"prefetch",
       QString::fromStdString("Prefetcher: " + cli_names(kPrefetcher, false) +
                              " (default none; `moescope policies`)."),
       "P"},
      {"link", "Emulated link: none, pcie4x16, pcie3x16, nvme, sata-ssd, ufs31, emmc.", "L"},
      {"link-bandwidth", "Override the link's bandwidth, e.g. 3GB/s.", "BW"},
      {"link-latency", "Override the link's per-load latency, e.g. 80us.", "T"},
      {"allocator", "Per-layer split of the budget: uniform, shallow-first.", "A"},
      {"expert-pack", "Load experts from a pack written by `moescope pack`.", "FILE"},
      {"expert-read",
       "How experts are read from the model file: cache (page cache, default), direct "
       "(O_DIRECT: the disk every time), dropcache (drop the range from the page cache first).",
       "R"},
      {"compare",
       QString::fromStdString("Policies to run as shadows on the same stream and budget; "
                              "oracles (" +
                              cli_names(kPolicy, true) +
                              ") are evaluated after the run. POLICY@PREFETCH sets a "
                              "shadow's prefetcher."),
       "LIST"},
      {"adaptive-topk",
       "LOSSY: drop a token's last expert while its renormalised weight is below "
       "T (one value, or one per MoE layer).",
       "T"},
      {"substitute",
       "LOSSY: replace a missed expert by a resident one within EPS of its router "
       "probability.",
       "EPS"},
      {"curves", "Also print hit rate vs capacity per layer for LRU and OPT (one pass)."},
  });
}

void OffloadRequest::fit_budget(const policy::MoeShape& shape) {
  if (!config) return;
  if (budget_share > 0) {
    config->budget = policy::Budget::slots(policy::share_slots(budget_share, shape));
  } else if (default_budget) {
    config->budget = policy::Budget::slots(
        policy::share_slots(kProfileBudgetShare, shape, uint64_t(shape.n_layers())));
  }
}

OffloadRequest parse_offload_options(const QCommandLineParser& parser, bool profiling) {
  OffloadRequest request;
  request.lossy = offload::parse_lossy(value(parser, "adaptive-topk"), value(parser, "substitute"));
  request.curves = parser.isSet("curves");
  offload::OffloadFlags flags;
  // Given but empty is a mistake, not "no offloading".
  for (const char* name : {"expert-budget", "expert-slots"}) {
    if (parser.isSet(name) && parser.value(name).trimmed().isEmpty()) fail("--{} is empty", name);
  }
  flags.expert_budget = value(parser, "expert-budget");
  flags.expert_slots = value(parser, "expert-slots");
  if (const std::optional<double> share = policy::parse_share(flags.expert_budget)) {
    // A placeholder the caller replaces once the model's shape is known (fit_budget).
    request.budget_share = *share;
    flags.expert_budget.clear();
    if (!flags.expert_slots.empty()) {
      fail("give exactly one of --expert-budget (bytes, e.g. 256MiB) and --expert-slots (experts)");
    }
    flags.expert_slots.assign(1, '0');
  }
  // A placeholder the caller replaces once the model's shape is known (fit_budget).
  request.default_budget = profiling && !flags.any();
  if (request.default_budget) flags.expert_slots.assign(1, '0');
  if (!flags.any()) {
    for (const char* name :
         {"policy", "prefetch", "link", "link-bandwidth", "link-latency", "allocator",
          "expert-pack", "expert-read", "compare", "substitute", "curves"}) {
      if (parser.isSet(name)) fail("--{} needs --expert-budget or --expert-slots", name);
    }
    return request;
  }
  flags.policy = value(parser, "policy");
  flags.prefetch = value(parser, "prefetch");
  flags.link = value(parser, "link");
  flags.link_bandwidth = value(parser, "link-bandwidth");
  flags.link_latency = value(parser, "link-latency");
  flags.allocator = value(parser, "allocator");
  flags.expert_pack = value(parser, "expert-pack");
  flags.expert_read = value(parser, "expert-read");
  flags.compare = value(parser, "compare");
  flags.adaptive_topk = value(parser, "adaptive-topk");
  flags.substitute = value(parser, "substitute");
  for (const char* name :
       {"policy", "prefetch", "link", "allocator", "expert-pack", "expert-read", "compare"}) {
    if (parser.isSet(name) && parser.value(name).trimmed().isEmpty()) fail("--{} is empty", name);
  }
  offload::OffloadConfig config = offload::make_offload_config(flags);
  check_policy(config.policy, true);
  policy::make_prefetcher(config.prefetcher, {});
  if (config.allocator == policy::AllocatorKind::kTraffic ||
      config.allocator == policy::AllocatorKind::kAdapMoe) {
    fail("--allocator {} is fitted on an earlier trace, which the CLI has none of",
         policy::allocator_name(config.allocator));
  }
  if (profiling && !parser.isSet("compare")) {
    const std::string driving = policy::parse_policy_spec(config.policy).text;
    for (const char* shadow : kProfileShadows) {
      if (policy::parse_policy_spec(shadow).text != driving)
        config.compare.push_back({shadow, config.prefetcher});
    }
  }
  for (const policy::ShadowSpec& s : config.compare) {
    check_policy(s.policy, false);
    policy::make_prefetcher(s.prefetcher, {});
  }
  // MRS ranks experts by router probability: give it the full distribution.
  config.router_probs = policy::parse_policy_spec(config.policy).kind == "mrs";
  for (const policy::ShadowSpec& s : config.compare) {
    if (policy::parse_policy_spec(s.policy).kind == "mrs") config.router_probs = true;
  }
  config.record_stream = request.curves;
  request.config = std::move(config);
  return request;
}

namespace {

OffloadRequest fitted(OffloadRequest request, const Model& model) {
  request.fit_budget(routed_expert_shape(model));  // bench and perplexity leave it to us
  return request;
}

}  // namespace

OffloadRun::OffloadRun(Model& model, const OffloadRequest& request, MoeObserver* downstream)
    : request_(fitted(request, model)),
      owned_(std::make_unique<offload::OffloadAttachment>(model, request_.config, request_.lossy,
                                                          downstream)),
      attachment_(owned_.get()) {}

OffloadRun::OffloadRun(const OffloadRequest& request, const offload::OffloadAttachment& attachment)
    : request_(request), attachment_(&attachment) {}

OffloadRun::~OffloadRun() = default;

QJsonObject OffloadRun::summary_json() const {
  QJsonObject out;
  out["lossy"] = request_.lossy.any();
  out["lossy_variants"] = QString::fromStdString(request_.lossy.describe());
  const offload::ExpertStore* store = attachment_->store();
  const offload::LossyCounters lc = attachment_->lossy_counters();
  if (request_.lossy.any()) {
    out["lossy_counters"] = QJsonObject{{"choices", qint64(lc.choices)},
                                        {"dropped", qint64(lc.dropped)},
                                        {"substituted", qint64(lc.substituted)},
                                        {"unsubstituted", qint64(lc.unsubstituted)}};
  }
  if (!store) return out;

  const offload::OffloadConfig& config = *request_.config;
  const policy::MoeShape& shape = store->shape();
  const policy::CacheCapacity capacity = store->capacity();
  out["budget"] =
      QJsonObject{{"unit", config.budget.unit == policy::Budget::Unit::kBytes ? "bytes" : "slots"},
                  {"amount", qint64(config.budget.amount)}};
  out["capacity_slots"] = qint64(capacity.total_slots(shape));
  out["total_experts"] = qint64(shape.total_experts());
  out["total_expert_bytes"] = qint64(shape.total_bytes());
  out["link"] = QJsonObject{{"name", QString::fromStdString(config.link.name)},
                            {"bandwidth_bytes_per_s", config.link.bandwidth_bytes_per_s},
                            {"latency_ns", qint64(config.link.latency_ns)}};
  out["allocator"] = policy::allocator_name(config.allocator);
  out["expert_pack"] = QString::fromStdString(config.pack.string());
  out["expert_read"] =
      QString::fromStdString(std::string(offload::slow_tier_read_name(config.read)));

  QJsonArray rows;
  auto add_row = [&](const std::string& pol, const std::string& pre, const char* run,
                     const policy::CacheReport& r, std::optional<int64_t> measured) {
    QJsonObject row{{"policy", QString::fromStdString(pol)},
                    {"prefetcher", QString::fromStdString(pre)},
                    {"run", run},
                    {"two_pass", std::string_view(run) == "oracle"},
                    {"lossy", request_.lossy.any()},
                    {"prefill", counters_json(r.phase[0])},
                    {"decode", counters_json(r.phase[1])},
                    {"total", counters_json(r.total())},
                    {"modelled_end_ns", qint64(r.end_ns)}};
    if (measured) row["measured_stall_ns"] = qint64(*measured);
    rows.append(row);
  };
  const policy::CacheReport live = store->decisions();
  const policy::CacheReport measured = store->measured();
  add_row(live.policy, live.prefetcher, "live", live, measured.total().stall_ns);
  for (const policy::ShadowResult& s : store->shadow_results())
    add_row(s.policy, s.prefetcher, s.oracle ? "oracle" : "shadow", s.report, std::nullopt);
  out["rows"] = rows;

  const offload::StoreStats st = store->stats();
  out["store"] = QJsonObject{{"loads", qint64(st.loads)},
                             {"link_bytes", qint64(st.link_bytes)},
                             {"raw_bytes", qint64(st.raw_bytes)},
                             {"load_ns", qint64(st.load_ns)},
                             {"pace_ns", qint64(st.pace_ns)},
                             {"decompress_ns", qint64(st.decompress_ns)},
                             {"stall_ns", qint64(st.stall_ns)},
                             {"stalls", qint64(st.stalls)},
                             {"late_prefetches", qint64(st.late_prefetches)},
                             {"buffers", st.buffers},
                             {"buffer_bytes", qint64(st.buffer_bytes)},
                             {"max_buffers_in_use", st.max_buffers_in_use}};

  if (request_.curves) {
    const policy::AccessStream stream = store->recorded_stream();
    const policy::CurveSet lru = policy::lru_curves(stream, shape);
    const policy::CurveSet opt = policy::opt_curves(stream, shape);
    auto phases = [](const policy::HitCurve& c) {
      return QJsonObject{{"prefill", int_array(c.hits[0])}, {"decode", int_array(c.hits[1])}};
    };
    QJsonArray layers;
    for (int32_t m = 0; m < shape.n_layers(); ++m) {
      const policy::HitCurve& l = lru.per_layer[size_t(m)];
      layers.append(QJsonObject{{"layer", m},
                                {"block", shape.model_layer[size_t(m)]},
                                {"accesses", QJsonObject{{"prefill", qint64(l.accesses[0])},
                                                         {"decode", qint64(l.accesses[1])}}},
                                {"lru_hits", phases(l)},
                                {"opt_hits", phases(opt.per_layer[size_t(m)])}});
    }
    out["curves"] = QJsonObject{
        {"note", "hits[c] with c slots in every layer (per-layer caches), c = 0..n_experts"},
        {"layers", layers}};
  }
  return out;
}

std::string OffloadRun::summary_text() const {
  std::string out;
  const offload::ExpertStore* store = attachment_->store();
  if (request_.lossy.any()) {
    const offload::LossyCounters lc = attachment_->lossy_counters();
    appendf(out,
            "\nLOSSY gating (the output differs from the model's): %s: %lld routing choices, "
            "%lld experts dropped, %lld non-resident experts substituted, %lld kept (no "
            "resident one within EPS)\n",
            request_.lossy.describe().c_str(), (long long)lc.choices, (long long)lc.dropped,
            (long long)lc.substituted, (long long)lc.unsubstituted);
  }
  if (!store) return out;

  const offload::OffloadConfig& config = *request_.config;
  const policy::MoeShape& shape = store->shape();
  const uint64_t slots = store->capacity().total_slots(shape);
  const std::string budget = config.budget.unit == policy::Budget::Unit::kBytes
                                 ? offload::format_bytes(config.budget.amount)
                                 : fmt::format("{} slots", config.budget.amount);
  appendf(out,
          "\nexpert cache: budget %s = %llu of %lld experts (%.1f %%, experts total %s), "
          "link %s, allocator %s%s%s\n",
          budget.c_str(), (unsigned long long)slots, (long long)shape.total_experts(),
          percent(int64_t(slots), shape.total_experts()),
          offload::format_bytes(shape.total_bytes()).c_str(), config.link.name.c_str(),
          policy::allocator_name(config.allocator), config.pack.empty() ? "" : ", pack ",
          config.pack.string().c_str());

  std::vector<Row> rows;
  const policy::CacheReport live = store->decisions();
  rows.push_back({live.policy, live.prefetcher, "live", live, store->measured().total().stall_ns});
  bool any_oracle = false;
  for (const policy::ShadowResult& s : store->shadow_results()) {
    rows.push_back({s.policy, s.prefetcher, s.oracle ? "oracle" : "shadow", s.report, {}});
    any_oracle = any_oracle || s.oracle;
  }
  bool prefetching = false;
  for (const Row& r : rows) prefetching = prefetching || r.report.total().prefetch_predicted > 0;

  const char* exactness = request_.lossy.any() ? "LOSSY" : "exact";
  appendf(out,
          "| policy | prefetch | run | hit prefill | hit decode | moved | stall modelled | "
          "stall measured |%s gating |\n",
          prefetching ? " precision | recall |" : "");
  appendf(out, "|---|---|---|---:|---:|---:|---:|---:|%s---|\n", prefetching ? "---:|---:|" : "");
  for (const Row& r : rows) {
    const policy::CacheCounters total = r.report.total();
    const std::string prefetch_cols =
        prefetching ? (total.prefetch_predicted > 0
                           ? fmt::format(" {:.3f} | {:.3f} |", total.precision(), total.recall())
                           : std::string(" - | - |"))
                    : std::string();
    appendf(out, "| %s | %s | %s | %s | %s | %s | %s | %s |%s %s |\n", r.policy.c_str(),
            r.prefetcher.c_str(), r.run, rate(r.report.phase[0]).c_str(),
            rate(r.report.phase[1]).c_str(),
            offload::format_bytes(uint64_t(total.bytes_loaded)).c_str(), ms(total.stall_ns).c_str(),
            r.measured_stall_ns ? ms(*r.measured_stall_ns).c_str() : "-", prefetch_cols.c_str(),
            exactness);
  }
  appendf(out,
          "modelled stall: the link model's time compute waits, with each layer's measured "
          "compute time; shadows ran on the identical access stream and budget.\n");
  if (any_oracle) {
    appendf(out,
            "oracle rows read the future: they were evaluated after the run, in a second pass "
            "over the recorded access stream.\n");
  }
  const offload::StoreStats st = store->stats();
  appendf(out,
          "store: %lld loads, %s read, loader busy %.2f ms (link pacing %.2f ms, "
          "decompression %.2f ms), %lld stalls\n",
          (long long)st.loads, offload::format_bytes(uint64_t(st.link_bytes)).c_str(),
          st.load_ns / 1e6, st.pace_ns / 1e6, st.decompress_ns / 1e6, (long long)st.stalls);

  if (request_.curves) {
    const policy::AccessStream stream = store->recorded_stream();
    const policy::CurveSet lru = policy::lru_curves(stream, shape);
    const policy::CurveSet opt = policy::opt_curves(stream, shape);
    int64_t decode = 0;
    for (const auto& c : lru.per_layer) decode += c.accesses[1];
    const int p = decode > 0 ? 1 : 0;
    int32_t max_experts = 0;
    for (int32_t n : shape.n_experts) max_experts = std::max(max_experts, n);
    const std::vector<int32_t> caps = shown_capacities(max_experts);
    appendf(out, "\nhit rate vs slots per layer, %s accesses, LRU / OPT (one pass):\n| layer |",
            p ? "decode" : "prefill");
    for (int32_t c : caps) appendf(out, " %d |", c);
    appendf(out, "\n|---|");
    for (size_t i = 0; i < caps.size(); ++i) appendf(out, "---:|");
    appendf(out, "\n");
    for (int32_t m = 0; m < shape.n_layers(); ++m) {
      const policy::HitCurve& l = lru.per_layer[size_t(m)];
      const policy::HitCurve& o = opt.per_layer[size_t(m)];
      appendf(out, "| %d |", shape.model_layer[size_t(m)]);
      for (int32_t c : caps) {
        const size_t cc = std::min<size_t>(size_t(c), l.hits[size_t(p)].size() - 1);
        appendf(out, " %.0f / %.0f |", percent(l.hits[size_t(p)][cc], l.accesses[size_t(p)]),
                percent(o.hits[size_t(p)][cc], o.accesses[size_t(p)]));
      }
      appendf(out, "\n");
    }
  }
  return out;
}

}  // namespace moescope::cli
