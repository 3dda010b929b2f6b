// moescope routing-stats [--model M] --file TEXT [--ctx N] [--chunks N] [--threads N] [--json]
//                        [--exact] [--link NAME] [--layer-compute DURATION]
// Runs the model over a text in chunks, as `moescope perplexity` does, records every token's
// routing and prints per MoE layer how the traffic spreads over the experts and how much a
// layer's top-1 choice tells about the next one's, then the offloading suitability of the model
// on that text (docs/suitability.md).
#include <QCommandLineParser>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include <fmt/format.h>

#include "app/cli/cli_input.h"
#include "app/cli/command.h"
#include "app/cli/commands.h"
#include "app/cli/default_model.h"
#include "engine/common/error.h"
#include "engine/model/model.h"
#include "engine/model/routing_trace_recorder.h"
#include "engine/policy/routing_stats.h"
#include "engine/policy/suitability.h"
#include "engine/tokenizer/tokenizer.h"

namespace moescope::cli {
namespace {

struct LayerRow {
  int32_t model_layer = 0;
  policy::LayerRoutingStats stats;
  int64_t max_load = 0;
  int64_t min_load = 0;
  int32_t idle = 0;
  std::optional<double> max_min_ratio;  // none when an expert is idle
  double top1_entropy = 0;
  std::optional<double> mi_next;  // none for the last MoE layer
};

std::vector<LayerRow> layer_rows(const policy::RoutingTrace& trace) {
  const policy::RoutingStats stats = policy::routing_stats(trace);
  std::vector<LayerRow> rows;
  for (int32_t m = 0; m < trace.n_layers(); ++m) {
    LayerRow r;
    r.model_layer = trace.shape.model_layer[m];
    r.stats = stats.layers[m];
    const auto [lo, hi] = std::minmax_element(r.stats.load.begin(), r.stats.load.end());
    r.min_load = *lo;
    r.max_load = *hi;
    r.idle = static_cast<int32_t>(std::count(r.stats.load.begin(), r.stats.load.end(), 0));
    if (r.min_load > 0) r.max_min_ratio = double(r.max_load) / double(r.min_load);
    r.top1_entropy = policy::top1_entropy(trace, MoeLayerId(m));
    if (m + 1 < trace.n_layers()) r.mi_next = policy::top1_mutual_information(trace, MoeLayerId(m));
    rows.push_back(std::move(r));
  }
  return rows;
}

QJsonValue optional_json(const std::optional<double>& v) {
  return v ? QJsonValue(*v) : QJsonValue(QJsonValue::Null);
}

QJsonValue number_json(double v) {
  return std::isfinite(v) ? QJsonValue(v) : QJsonValue(QJsonValue::Null);
}

template <typename T>
QJsonArray array_json(const std::vector<T>& values) {
  QJsonArray out;
  for (const T& v : values) {
    if constexpr (std::is_floating_point_v<T>) {
      out.append(number_json(v));
    } else {
      out.append(qint64(v));
    }
  }
  return out;
}

QJsonObject srp_json(const policy::SrpScore& s) {
  return QJsonObject{{"m", s.m},
                     {"model", number_json(s.model)},
                     {"model_threshold", s.model_threshold},
                     {"per_layer", array_json(s.per_layer)},
                     {"per_layer_threshold", array_json(s.per_layer_threshold)}};
}

QJsonObject sch_json(const policy::SchScore& s) {
  return QJsonObject{{"m", s.m},
                     {"model", number_json(s.model)},
                     {"per_layer_caches", number_json(s.per_layer_caches)},
                     {"per_layer", array_json(s.per_layer)}};
}

QJsonValue slots_json(const std::optional<int32_t>& v) {
  return v ? QJsonValue(*v) : QJsonValue(QJsonValue::Null);
}

// The "suitability" object of --json: every number of policy::Suitability, unrounded (doubles in
// shortest round-trip form). Keys: docs/suitability.md, "JSON keys".
QJsonObject suitability_json(const policy::Suitability& s, const policy::MoeShape& shape) {
  QJsonArray srp, coverage, capacities, reasons;
  for (const policy::SrpScore& v : s.srp) srp.append(srp_json(v));
  for (const policy::WindowCoverage& v : s.coverage) {
    coverage.append(QJsonObject{{"m", v.m},
                                {"mean_of_layers", number_json(v.mean_of_layers)},
                                {"per_layer", array_json(v.per_layer)}});
  }
  for (const policy::CapacityPoint& c : s.capacities) {
    QJsonArray sch;
    for (const policy::SchScore& v : c.sch) sch.append(sch_json(v));
    capacities.append(QJsonObject{{"multiple_of_k", c.multiple},
                                  {"slots", array_json(c.slots)},
                                  {"total_slots", qint64(c.total_slots)},
                                  {"lru", number_json(c.lru)},
                                  {"opt", number_json(c.opt)},
                                  {"lru_global", number_json(c.lru_global)},
                                  {"opt_global", number_json(c.opt_global)},
                                  {"sch", sch}});
  }
  for (const std::string& r : s.reasons) reasons.append(QString::fromStdString(r));
  const policy::BreakEven& b = s.break_even;
  return QJsonObject{
      {"tokens", qint64(s.tokens)},
      {"srp_floor", s.uniform_srp},
      {"srp", srp},
      {"window_coverage", coverage},
      {"capacities", capacities},
      {"break_even", QJsonObject{{"link", QString::fromStdString(s.link_name)},
                                 {"hit_rate", b.hit_rate},
                                 {"per_layer", array_json(b.per_layer)},
                                 {"expert_bytes", array_json(shape.expert_bytes)},
                                 {"transfer_ns", array_json(b.transfer_ns)},
                                 {"compute_ns", array_json(b.compute_ns)},
                                 {"compute_origin", policy::compute_origin_name(b.compute_origin)},
                                 {"link_ns_per_token", b.link_ns_per_token},
                                 {"compute_ns_per_token", b.compute_ns_per_token}}},
      {"lru_slots_to_break_even", slots_json(s.lru_slots_to_break_even)},
      {"opt_slots_to_break_even", slots_json(s.opt_slots_to_break_even)},
      {"verdict", policy::verdict_name(s.verdict)},
      {"verdict_text", QString::fromStdString(s.verdict_text)},
      {"reasons", reasons}};
}

void print_suitability(const policy::Suitability& s) {
  std::printf("\nOffloading suitability (docs/suitability.md), tokens one by one:\n");
  std::printf("%-22s", "m");
  for (int32_t m : s.windows) std::printf(" %8d", m);
  std::printf("\n%-22s", "SRP(m), model");
  for (const policy::SrpScore& v : s.srp) std::printf(" %8.3f", v.model);
  std::printf("   (floor 2k/(n+k): %.3f)\n", s.uniform_srp);
  for (const policy::CapacityPoint& c : s.capacities) {
    const std::string k = c.multiple == 1 ? std::string("k") : fmt::format("{}k", c.multiple);
    std::printf("%-22s", fmt::format("SCH(m,{}), model", k).c_str());
    for (const policy::SchScore& v : c.sch) std::printf(" %7.1f%%", 100 * v.model);
    std::printf("   one pool of %lld slots: LRU %.1f %%, OPT %.1f %%\n",
                static_cast<long long>(c.total_slots), 100 * c.lru_global, 100 * c.opt_global);
    std::printf("%-22s", fmt::format("SCH(m,{}), per layer", k).c_str());
    for (const policy::SchScore& v : c.sch) std::printf(" %7.1f%%", 100 * v.per_layer_caches);
    std::printf("   %d slots per layer: LRU %.1f %%, OPT %.1f %%\n",
                c.slots.empty() ? 0 : c.slots[0], 100 * c.lru, 100 * c.opt);
  }
  std::printf("\nverdict: %s\n", s.verdict_text.c_str());
  for (const std::string& r : s.reasons) std::printf("  - %s\n", r.c_str());
}

// Median wall time of single-token forward calls (the decode compute of a token), recorder off.
int64_t measure_decode_ns(Model& model, const std::vector<int32_t>& tokens) {
  constexpr size_t kSteps = 17;  // the first one warms up and is not counted
  auto state = model.new_state();
  std::vector<float> logits(static_cast<size_t>(model.n_vocab()));
  std::vector<int64_t> times;
  const size_t steps = std::min({kSteps, tokens.size(), size_t(std::max(model.n_ctx(), 0))});
  for (size_t i = 0; i < steps; ++i) {
    const auto start = std::chrono::steady_clock::now();
    model.forward(std::span<const int32_t>(&tokens[i], 1), *state, logits, /*all_logits=*/false);
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                        std::chrono::steady_clock::now() - start)
                        .count();
    if (i > 0) times.push_back(ns);
  }
  if (times.empty()) return 0;
  std::nth_element(times.begin(), times.begin() + ptrdiff_t(times.size() / 2), times.end());
  return times[times.size() / 2];
}

void add_routing_stats_options(QCommandLineParser& parser) {
  parser.setApplicationDescription(
      "Routing statistics of a model on a text file. The text is cut into chunks as perplexity "
      "does (each from an empty context, BOS first) and every token's routing is recorded; per MoE "
      "layer the command prints the expert load (most-used / least-used expert), Jain's fairness, "
      "the entropies of the load and of the router, the hot set (fewest experts taking 80 % of "
      "the traffic) and the mutual information of consecutive layers' top-1 experts (top-1 only, "
      "not the whole top-k set).");
  parser.addHelpOption();
  parser.addOptions({
      {"model", "GGUF model file (default: the built-in model).", "M"},
      {"file", "UTF-8 text file.", "TEXT"},
      {"ctx", "Chunk length in tokens (default: the model's training context, at most 512).", "N"},
      {"chunks", "Evaluate at most N chunks (default: all, the last one possibly shorter).", "N"},
      {"threads", "Worker threads (default: physical cores).", "N"},
      {"json", "Machine-readable output."},
      {"exact", "Dequantize weights exactly and compute in float (slow reference path)."},
      {"link",
       "Link of the suitability analysis's break-even hit rate (default nvme; none, pcie4x16, "
       "pcie3x16, nvme, sata-ssd, ufs31, emmc).",
       "NAME"},
      {"layer-compute",
       "Compute time of one token per MoE layer for the break-even (e.g. 150us; default: "
       "measured from 16 single-token forward calls, divided by the MoE layers).",
       "DURATION"},
  });
}

// The routing of the whole text, evaluated in chunks of n_ctx tokens as perplexity does.
struct RecordedRouting {
  policy::RoutingTrace trace;
  int chunks_done = 0;
  double seconds = 0;
};

RecordedRouting record_routing(Model& model, const tokenizer::Tokenizer& tokenizer,
                               const std::vector<int32_t>& tokens, int n_ctx, int n_chunks) {
  const bool add_bos = tokenizer.vocab().add_bos;
  RoutingTraceRecorder recorder(model, /*with_probs=*/true);
  model.set_observer(&recorder);
  auto state = model.new_state();
  std::vector<float> logits(static_cast<size_t>(model.n_vocab()));  // [1][n_vocab]
  std::vector<int32_t> chunk;
  const auto start = std::chrono::steady_clock::now();
  int chunks_done = 0;
  for (size_t begin = 0; begin < tokens.size(); begin += static_cast<size_t>(n_ctx)) {
    if (n_chunks >= 0 && chunks_done == n_chunks) break;
    const size_t end = std::min(tokens.size(), begin + static_cast<size_t>(n_ctx));
    chunk.assign(tokens.begin() + static_cast<ptrdiff_t>(begin),
                 tokens.begin() + static_cast<ptrdiff_t>(end));
    if (add_bos) chunk[0] = tokenizer.bos();
    state->clear();
    recorder.describe_next_forward(chunk, policy::Phase::kPrefill);
    model.forward(chunk, *state, logits, /*all_logits=*/false);
    ++chunks_done;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  model.set_observer(nullptr);
  return RecordedRouting{recorder.finish(), chunks_done, seconds};
}

// The link and the per-layer compute time of the break-even: --layer-compute, or measured.
policy::SuitabilityOptions suitability_options(const policy::LinkModel& link,
                                               std::optional<int64_t> layer_compute, Model& model,
                                               const std::vector<int32_t>& tokens,
                                               int32_t n_layers) {
  policy::SuitabilityOptions options;
  options.link = link;
  if (layer_compute) {
    options.layer_compute_ns.assign(size_t(n_layers), *layer_compute);
  } else {
    const int64_t token_ns = measure_decode_ns(model, tokens);
    options.layer_compute_ns.assign(size_t(n_layers), std::max<int64_t>(1, token_ns / n_layers));
    options.compute_origin = policy::ComputeOrigin::kMeasured;
  }
  return options;
}

QJsonArray layers_json(const std::vector<LayerRow>& rows) {
  QJsonArray layers;
  for (const LayerRow& r : rows) {
    QJsonArray load;
    for (int64_t x : r.stats.load) load.append(qint64(x));
    layers.append(QJsonObject{
        {"layer", r.model_layer},
        {"n_expert", qint64(r.stats.load.size())},
        {"tokens", qint64(r.stats.tokens)},
        {"activations", qint64(r.stats.activations)},
        {"load", load},
        {"max_load", qint64(r.max_load)},
        {"min_load", qint64(r.min_load)},
        {"idle_experts", r.idle},
        {"max_min_ratio", optional_json(r.max_min_ratio)},
        {"jain_fairness", r.stats.jain_fairness},
        {"load_entropy_bits", r.stats.load_entropy_bits},
        {"router_entropy_bits", r.stats.router_entropy_bits},
        {"hot_set_80", r.stats.hot_set_80},
        {"top1_entropy_bits", r.top1_entropy},
        {"top1_mi_next_bits", optional_json(r.mi_next)},
    });
  }
  return layers;
}

void print_layer_table(const std::vector<LayerRow>& rows, const RecordedRouting& routing,
                       int n_ctx) {
  const policy::RoutingTrace& trace = routing.trace;
  const int32_t n_expert = trace.shape.n_experts.front();
  const int32_t top_k = trace.shape.top_k.front();
  std::printf("%lld tokens in %d chunks of at most %d; %d MoE layers, %d experts, top-%d\n\n",
              static_cast<long long>(trace.n_tokens()), routing.chunks_done, n_ctx,
              trace.n_layers(), n_expert, top_k);
  std::printf("%5s %9s %9s %7s %5s %6s %8s %9s %6s %10s\n", "layer", "max", "min", "max/min",
              "idle", "Jain", "load H", "router H", "hot80", "top1 MI");
  for (const LayerRow& r : rows) {
    const std::string ratio = r.max_min_ratio ? fmt::format("{:.2f}", *r.max_min_ratio) : "inf";
    const std::string mi = r.mi_next ? fmt::format("{:.3f}", *r.mi_next) : "-";
    std::printf("%5d %9lld %9lld %7s %5d %6.3f %8.3f %9.3f %6d %10s\n", r.model_layer,
                static_cast<long long>(r.max_load), static_cast<long long>(r.min_load),
                ratio.c_str(), r.idle, r.stats.jain_fairness, r.stats.load_entropy_bits,
                r.stats.router_entropy_bits, r.stats.hot_set_80, mi.c_str());
  }
  std::printf(
      "\nmax, min: activations of the most- and least-used expert; Jain: fairness of the\n"
      "load (1 = even); load H, router H: entropy in bits of the load and (mean per token)\n"
      "of the router's distribution; hot80: fewest experts taking 80 %% of the activations;\n"
      "top1 MI: mutual information in bits of this layer's and the next layer's top-1 "
      "expert\n(top-1 only: the other experts of a token's top-k are not counted).\n");
}

}  // namespace

int run_routing_stats(const QStringList& args) {
  QCommandLineParser parser;
  add_routing_stats_options(parser);
  if (auto done = parse_command_line(parser, args)) return *done;
  if (!parser.positionalArguments().isEmpty()) {
    print_error("routing-stats: unexpected argument '" + parser.positionalArguments().first() +
                "'");
    return kUsage;
  }
  if (!parser.isSet("file")) {
    print_error("routing-stats: --file is required");
    return kUsage;
  }
  int n_ctx = 0, n_chunks = -1, threads = 0;
  QString error;
  if (!parse_int(parser, "ctx", 2, 1 << 20, n_ctx, error) ||
      !parse_int(parser, "chunks", 1, 1 << 30, n_chunks, error) ||
      !parse_int(parser, "threads", 1, 1024, threads, error)) {
    print_error("routing-stats: " + error);
    return kUsage;
  }

  try {
    const policy::LinkModel link = policy::LinkModel::preset(
        parser.value("link").isEmpty() ? std::string("nvme") : parser.value("link").toStdString());
    std::optional<int64_t> layer_compute;
    if (parser.isSet("layer-compute")) {
      layer_compute = policy::parse_duration_ns(parser.value("layer-compute").toStdString());
      if (*layer_compute <= 0) fail("--layer-compute must be positive");
    }
    const std::string text =
        read_text_file(parser.value("file"), "routing-stats", qint64(256) << 20);
    const QString model_path = model_path_or_default(parser);
    ModelOptions model_options;
    model_options.n_threads = threads;
    model_options.n_ctx = n_ctx;
    model_options.precision =
        parser.isSet("exact") ? MatmulPrecision::Exact : MatmulPrecision::Fast;
    auto model = Model::load(model_path.toStdString(), model_options);
    auto tokenizer = tokenizer::Tokenizer::from_gguf(model->file());
    if (n_ctx == 0) n_ctx = std::min(model->n_ctx(), 512);

    // As perplexity: the whole text tokenized once, plain text (special-token text not parsed).
    const std::vector<int32_t> tokens =
        tokenizer->encode(text, /*add_special=*/true, /*parse_special=*/false);
    if (tokens.empty()) fail("{} has no tokens", parser.value("file").toStdString());

    const RecordedRouting routing = record_routing(*model, *tokenizer, tokens, n_ctx, n_chunks);
    const policy::RoutingTrace& trace = routing.trace;
    const std::vector<LayerRow> rows = layer_rows(trace);
    const policy::Suitability suitability = policy::offloading_suitability(
        trace, suitability_options(link, layer_compute, *model, tokens, trace.n_layers()));

    if (parser.isSet("json")) {
      const QJsonObject out{{"model", model_path},
                            {"file", parser.value("file")},
                            {"n_tokens", qint64(trace.n_tokens())},
                            {"n_chunks", routing.chunks_done},
                            {"ctx", n_ctx},
                            {"layers", layers_json(rows)},
                            {"suitability", suitability_json(suitability, trace.shape)}};
      std::printf("%s", QJsonDocument(out).toJson().constData());
    } else {
      print_layer_table(rows, routing, n_ctx);
      print_suitability(suitability);
    }
    std::fprintf(stderr, "routing-stats: %lld tokens, %d chunks, %.2f s (%.1f tokens/s)\n",
                 static_cast<long long>(trace.n_tokens()), routing.chunks_done, routing.seconds,
                 routing.seconds > 0 ? double(trace.n_tokens()) / routing.seconds : 0.0);
  } catch (const Error& e) {
    print_error(e.what());
    return kFailure;
  }
  return kSuccess;
}

}  // namespace moescope::cli
