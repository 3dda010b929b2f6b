// moescope import --format sglang-pt|routed-experts|llama-csv --in FILE --trace T.sqlite
//                 [--layers L --experts E --topk K] [--expert-bytes B] [--label TEXT] [--json]
// Routing recorded by SGLang, vLLM or llama.cpp becomes a run of the trace (docs/import.md). The
// trace changes only when the whole import succeeds: it is written as a copy beside it and
// renamed into place, so a bad file leaves an existing trace as it was and creates none.
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <cstdio>
#include <filesystem>
#include <string>

#include <fmt/format.h>

#include "app/cli/cli_input.h"
#include "app/cli/command.h"
#include "app/cli/commands.h"
#include "app/cli/output_file.h"
#include "app/cli/progress.h"
#include "engine/common/error.h"
#include "storage/import/importer.h"

namespace moescope::cli {
namespace {

void remove_sqlite_companions(const std::filesystem::path& p) {
  std::error_code ec;
  for (const char* suffix : {"-wal", "-shm", "-journal"})
    std::filesystem::remove(p.string() + suffix, ec);
}

QJsonObject result_json(const storage::import::ImportResult& r, const std::string& trace) {
  QJsonArray layers, topk;
  for (int32_t l : r.shape.model_layer) layers.append(l);
  for (int32_t k : r.shape.top_k) topk.append(k);
  return QJsonObject{{"trace", QString::fromStdString(trace)},
                     {"run", qint64(r.run)},
                     {"format", QString::fromStdString(r.source_format)},
                     {"tokens", qint64(r.tokens)},
                     {"requests", r.requests},
                     {"steps", qint64(r.steps)},
                     {"source_layers", r.source_layers},
                     {"moe_layers", layers},
                     {"experts", r.shape.n_experts.front()},
                     {"top_k", topk},
                     {"counts_only", r.counts_only}};
}

}  // namespace

int run_import(const QStringList& args) {
  QCommandLineParser parser;
  parser.setApplicationDescription(
      "Import routing recorded by SGLang, vLLM or llama.cpp into a trace as a run without a "
      "model (docs/import.md).");
  parser.addHelpOption();
  parser.addOption({"format", "sglang-pt, routed-experts or llama-csv.", "FORMAT"});
  parser.addOption({"in", "The file to import.", "FILE"});
  parser.addOption({"trace", "The trace to add the run to (created when missing).", "FILE"});
  parser.addOption({"layers", "Layers of the source model (when the file does not say).", "L"});
  parser.addOption({"experts", "Routed experts per layer (default: from the file).", "E"});
  parser.addOption({"topk", "Experts a token selects (when the file does not say).", "K"});
  parser.addOption({"expert-bytes", "Bytes of one expert (default 1: unknown).", "B"});
  parser.addOption({"label", "The run's label.", "TEXT"});
  parser.addOption({"json", "Print the result as JSON."});
  parser.addOption({"quiet", "No progress bar."});
  if (const auto done = parse_command_line(parser, args)) return *done;
  if (!parser.positionalArguments().isEmpty()) {
    print_error("import: unexpected argument '" + parser.positionalArguments().first() + "'");
    return kUsage;
  }
  for (const char* required : {"format", "in", "trace"}) {
    if (!parser.isSet(required) || parser.value(required).isEmpty()) {
      print_error(QString("import: --%1 is required").arg(required));
      return kUsage;
    }
  }
  storage::import::ImportOptions o;
  try {
    o.format = storage::import::import_format_from_name(parser.value("format").toStdString());
  } catch (const Error& e) {
    print_error(QString("import: ") + e.what());
    return kUsage;
  }
  QString error;
  int layers = 0, experts = 0, topk = 0, expert_bytes = 1;
  if (!parse_int(parser, "layers", 1, 4096, layers, error) ||
      !parse_int(parser, "experts", 1, 65536, experts, error) ||
      !parse_int(parser, "topk", 1, 255, topk, error) ||
      !parse_int(parser, "expert-bytes", 1, 2147483647, expert_bytes, error)) {
    print_error("import: " + error);
    return kUsage;
  }
  o.layers = layers;
  o.experts = experts;
  o.topk = topk;
  o.expert_bytes = uint64_t(expert_bytes);
  o.in = parser.value("in").toStdString();
  o.label = parser.value("label").toStdString();
  const std::filesystem::path trace = parser.value("trace").toStdString();
  try {
    std::error_code ec;
    if (std::filesystem::exists(trace, ec) && !std::filesystem::is_regular_file(trace, ec))
      fail("{} is not a regular file", trace.string());
    if (std::filesystem::equivalent(o.in, trace, ec)) fail("--in and --trace are the same file");
    OutputFile out(trace);
    o.trace = out.temporary();
    storage::import::ImportResult result;
    try {
      // The run goes into a copy of the trace; the copy replaces it only when complete.
      if (std::filesystem::exists(trace)) {
        std::filesystem::copy_file(trace, out.temporary(),
                                   std::filesystem::copy_options::overwrite_existing);
      } else {
        std::filesystem::remove(out.temporary(), ec);
      }
      Progress progress("importing", 0, parser.isSet("quiet"));
      o.progress = [&](int64_t tokens) { progress.update(tokens); };
      result = storage::import::import_routing(o);
      progress.finish();
      remove_sqlite_companions(out.temporary());
      out.commit();
    } catch (...) {
      remove_sqlite_companions(out.temporary());
      throw;
    }
    if (parser.isSet("json")) {
      std::fputs(QJsonDocument(result_json(result, trace.string())).toJson().constData(), stdout);
    } else {
      std::string layers_list;
      for (int32_t l : result.shape.model_layer) {
        if (!layers_list.empty()) layers_list += ",";
        layers_list += std::to_string(l);
      }
      std::fputs(fmt::format("imported {} ({}) into {} as run {}: {} tokens, {} requests, {} "
                             "steps; {} MoE layers of {} (layers {}), {} experts, top-{}{}\n",
                             o.in.string(), result.source_format, trace.string(), result.run,
                             result.tokens, result.requests, result.steps,
                             result.shape.n_layers(), result.source_layers, layers_list,
                             result.shape.n_experts.front(), result.shape.top_k.front(),
                             result.counts_only ? " (expert counts per step only)" : "")
                     .c_str(),
                 stdout);
    }
    return kSuccess;
  } catch (const std::filesystem::filesystem_error& e) {
    print_error(QString("import: ") + e.what());
    return kFailure;
  } catch (const Error& e) {
    print_error(QString("import: ") + e.what());
    return kFailure;
  }
}

}  // namespace moescope::cli
