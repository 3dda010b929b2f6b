// moescope placement --trace T [--run ID] --devices G [--nodes N] [--redundant R] [--groups N]
//                    [--algo contiguous|eplb|affinity|joint|all] [--fit-fraction F]
//                    [--hidden H] [--dtype-bytes B] [--expert-ns NS] [--intra-gbps X]
//                    [--inter-gbps X] [--beta B] [--json]
//                    [--sglang-out F] [--map-out F [--map-algo A]] [--llama-plan-out F --gpu-budget S]
// Expert-parallel "what if" over a recorded routing (docs/placement.md): fits placements on the
// first part of the run, simulates them on the rest (held out) and prints them side by side;
// writes the files SGLang and llama.cpp load.
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <cmath>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "app/cli/command.h"
#include "app/cli/commands.h"
#include "app/cli/output_file.h"
#include "app/cli/trace_options.h"
#include "engine/common/error.h"
#include "engine/offload/byte_size.h"
#include "engine/placement/model_hidden_size.h"
#include "engine/placement/placement_study.h"

namespace moescope::cli {
namespace {

double number_flag(const QCommandLineParser& parser, const char* name, double fallback, double min,
                   double max) {
  if (!parser.isSet(name)) return fallback;
  bool ok = false;
  const double v = parser.value(name).toDouble(&ok);
  if (!ok || !std::isfinite(v) || v < min || v > max)
    fail("--{} must be a number between {} and {}, not '{}'", name, min, max,
         parser.value(name).toStdString());
  return v;
}

int int_flag(const QCommandLineParser& parser, const char* name, int fallback, int min, int max) {
  const double v = number_flag(parser, name, fallback, min, max);
  if (v != std::floor(v)) fail("--{} must be a whole number, not '{}'", name, parser.value(name).toStdString());
  return static_cast<int>(v);
}

QJsonValue json_number(double v) { return std::isfinite(v) ? QJsonValue(v) : QJsonValue(); }

QJsonObject metrics_json(const placement::StudyEntry& e) {
  const placement::PlacementMetrics& m = e.metrics;
  QJsonArray layers;
  for (const placement::LayerMetrics& l : m.layers) {
    QJsonArray load;
    for (double v : l.device_load) load.append(v);
    layers.append(QJsonObject{{"device_load", load},
                              {"balancedness", json_number(l.balancedness)},
                              {"step_balancedness", json_number(l.step_balancedness)},
                              {"step_straggler", json_number(l.step_straggler)},
                              {"dispatch_intra_bytes", l.dispatch_intra_bytes},
                              {"dispatch_inter_bytes", l.dispatch_inter_bytes},
                              {"combine_intra_bytes", l.combine_intra_bytes},
                              {"combine_inter_bytes", l.combine_inter_bytes},
                              {"same_device_pairs", l.same_device_pairs},
                              {"pairs", l.pairs},
                              {"modelled_time_ns", l.time_ns()}});
  }
  QJsonArray traffic;
  for (double v : m.traffic) traffic.append(v);
  return QJsonObject{{"algorithm", QString::fromStdString(m.algorithm)},
                     {"note", QString::fromStdString(e.note)},
                     {"balancedness", json_number(m.balancedness())},
                     {"step_balancedness", json_number(m.step_balancedness())},
                     {"step_straggler", json_number(m.step_straggler())},
                     {"same_device_fraction", json_number(m.same_device_fraction())},
                     {"intra_node_bytes", m.intra_bytes()},
                     {"inter_node_bytes", m.inter_bytes()},
                     {"modelled_moe_time_ns", m.time_ns()},
                     {"layers", layers},
                     {"all_to_all", traffic}};
}

void print_table(const placement::Study& s) {
  std::printf("%s\n%s\n%s\n\n", s.describe_setup().c_str(), s.describe_split().c_str(),
              s.describe_model().c_str());
  std::printf("| algorithm | balancedness | step balancedness | straggler | same-device | "
              "intra-node MB | inter-node MB | modelled MoE time ms | note |\n"
              "|---|---:|---:|---:|---:|---:|---:|---:|---|\n");
  for (const placement::StudyEntry& e : s.entries) {
    const placement::PlacementMetrics& m = e.metrics;
    std::printf("| %s | %.3f | %.3f | %.2f | %.1f %% | %.2f | %.2f | %.3f | %s |\n",
                m.algorithm.c_str(), m.balancedness(), m.step_balancedness(), m.step_straggler(),
                100 * m.same_device_fraction(), m.intra_bytes() / 1e6, m.inter_bytes() / 1e6,
                m.time_ns() / 1e6, e.note.c_str());
  }
}

// Every export is rendered before the first is written, so that a failing one leaves no file.
void write_exports(const QCommandLineParser& parser, const placement::Study& study) {
  std::vector<std::pair<std::string, std::string>> files;
  if (parser.isSet("sglang-out"))
    files.emplace_back(parser.value("sglang-out").toStdString(), study.sglang_logical_count());
  if (parser.isSet("map-out"))
    files.emplace_back(parser.value("map-out").toStdString(),
                       study.physical_to_logical(parser.value("map-algo").toStdString()));
  if (parser.isSet("llama-plan-out")) {
    const uint64_t budget = offload::parse_byte_size(parser.value("gpu-budget").toStdString());
    files.emplace_back(parser.value("llama-plan-out").toStdString(), study.llama_plan(budget));
  }
  for (const auto& [path, text] : files) write_file_atomically(path, text);
}

}  // namespace

int run_placement(const QStringList& args) {
  QCommandLineParser parser;
  parser.setApplicationDescription(
      "Expert-parallel placement on a trace: contiguous vs DeepSeek EPLB vs ExFlow affinity vs a "
      "joint load+traffic placement, fitted on part of the run and simulated on the rest.");
  parser.addHelpOption();
  add_trace_options(parser);
  parser.addOptions({
      {"devices", "Devices (GPUs, EP ranks).", "G"},
      {"nodes", "Nodes the devices spread over (default 1).", "N", "1"},
      {"redundant", "Redundant expert slots per layer for EPLB (default 0).", "R", "0"},
      {"groups", "Expert groups (DeepSeek n_group) for hierarchical EPLB (default: global).", "N"},
      {"algo", "contiguous, eplb, affinity, joint or all (default all).", "A", "all"},
      {"fit-fraction", "Share of the tokens to fit on; the rest is the held-out evaluation "
                       "(default 0.5; 1 fits and evaluates on all tokens).", "F", "0.5"},
      {"hidden", "Hidden size of a token message (default: the model's, else 4096).", "H", "4096"},
      {"dtype-bytes", "Bytes per element of a token message (default 2).", "B", "2"},
      {"expert-ns", "Modelled time of one token on one expert, ns (default 250).", "NS", "250"},
      {"intra-gbps", "Intra-node bandwidth per device, GB/s (default 150).", "X", "150"},
      {"inter-gbps", "Inter-node bandwidth per device, GB/s (default 50).", "X", "50"},
      {"beta", "Joint placement: cost of moving a token relative to one expert computation "
               "(default: from the time model).", "B"},
      {"sglang-out", "Write SGLang --init-expert-location JSON (logical_count).", "FILE"},
      {"map-out", "Write a physical_to_logical_map JSON (SGLang --init-expert-location).", "FILE"},
      {"map-algo", "Placement for --map-out (default eplb).", "A", "eplb"},
      {"llama-plan-out", "Write a llama.cpp --n-cpu-moe / --override-tensor plan.", "FILE"},
      {"gpu-budget", "GPU memory for expert weights in the llama.cpp plan (e.g. 8GiB).", "SIZE"},
  });
  if (const auto done = parse_command_line(parser, args)) return *done;
  if (!parser.positionalArguments().isEmpty()) {
    print_error("placement: unexpected argument '" + parser.positionalArguments().first() + "'");
    return kUsage;
  }
  placement::StudyOptions options;
  try {
    if (!parser.isSet("devices")) fail("--devices is required");
    options.topology.devices = int_flag(parser, "devices", 1, 1, 4096);
    options.topology.nodes = int_flag(parser, "nodes", 1, 1, 4096);
    options.redundant = int_flag(parser, "redundant", 0, 0, 4096);
    if (parser.isSet("groups")) options.groups = int_flag(parser, "groups", 1, 1, 1 << 20);
    options.algorithms = placement::parse_algorithms(parser.value("algo").toStdString());
    options.fit_fraction = number_flag(parser, "fit-fraction", 0.5, 0.0, 1.0);
    if (options.fit_fraction <= 0) fail("--fit-fraction must be above 0 (some tokens to fit on)");
    options.sim.hidden = int_flag(parser, "hidden", 4096, 1, 1 << 24);
    options.sim.dtype_bytes = int_flag(parser, "dtype-bytes", 2, 1, 8);
    options.sim.expert_ns = number_flag(parser, "expert-ns", 250, 0, 1e12);
    options.sim.intra_gbps = number_flag(parser, "intra-gbps", 150, 1e-6, 1e9);
    options.sim.inter_gbps = number_flag(parser, "inter-gbps", 50, 1e-6, 1e9);
    if (parser.isSet("beta")) options.beta = number_flag(parser, "beta", 1, 0, 1e12);
    if (parser.isSet("llama-plan-out") != parser.isSet("gpu-budget"))
      fail("--llama-plan-out and --gpu-budget go together");
    if (parser.isSet("gpu-budget")) offload::parse_byte_size(parser.value("gpu-budget").toStdString());
    options.topology.validate();
  } catch (const Error& e) {
    print_error(QString("placement: ") + e.what());
    return kUsage;
  }
  try {
    OpenedTrace trace = open_trace(parser);
    const storage::RunInfo info = trace.reader->run_info(trace.run);
    if (parser.isSet("hidden")) {
      options.hidden_origin = "--hidden";
    } else if (const auto n = placement::model_hidden_size(info.model.path)) {
      options.sim.hidden = *n;
      options.hidden_origin = "hidden size of the model";
    } else {
      options.hidden_origin = "assumed: the model file is not readable; --hidden sets it";
    }
    const policy::RoutingTrace routing = trace.reader->routing_trace(trace.run);
    placement::RecordedIds ids = placement::recorded_ids(
        trace.reader->token_requests(trace.run), trace.reader->token_steps(trace.run),
        trace.reader->forward_calls(trace.run), routing.n_tokens());
    placement::StudyInput input{.routing = routing,
                                .requests = std::move(ids.requests),
                                .steps = std::move(ids.steps),
                                .n_model_layers = info.model.n_model_layers,
                                .label = fmt::format("{} run {}", trace.reader->path().string(),
                                                     trace.run)};
    const placement::Study study = placement::run_study(input, options);
    write_exports(parser, study);
    if (trace.json) {
      QJsonArray entries;
      for (const placement::StudyEntry& e : study.entries) entries.append(metrics_json(e));
      const QJsonObject out{
          {"trace", QString::fromStdString(trace.reader->path().string())},
          {"run", qint64(trace.run)},
          {"devices", options.topology.devices},
          {"nodes", options.topology.nodes},
          {"redundant", options.redundant},
          {"fit_tokens", QJsonArray{qint64(study.fit.begin), qint64(study.fit.end)}},
          {"eval_tokens", QJsonArray{qint64(study.eval.begin), qint64(study.eval.end)}},
          {"held_out", study.held_out()},
          {"split", QString::fromStdString(study.describe_split())},
          {"time_model", QString::fromStdString(study.describe_model())},
          {"placements", entries}};
      std::printf("%s", QJsonDocument(out).toJson(QJsonDocument::Indented).constData());
    } else {
      print_table(study);
    }
  } catch (const Error& e) {
    print_error(trace_usage_error(parser) ? QString("placement: ") + e.what() : QString(e.what()));
    return trace_usage_error(parser) ? kUsage : kFailure;
  }
  return kSuccess;
}

}  // namespace moescope::cli
