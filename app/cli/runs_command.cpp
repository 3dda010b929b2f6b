// moescope runs --trace FILE [--json]
// The runs a trace holds: one row each (id, status, label, model, architecture, tokens, routing
// entries, policies, start, duration), as a Markdown table or, with --json, a JSON array.
#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <cstdio>
#include <string>

#include <fmt/format.h>

#include "app/cli/command.h"
#include "app/cli/commands.h"
#include "app/cli/trace_options.h"
#include "engine/common/error.h"

namespace moescope::cli {
namespace {

QString local_time(int64_t unix_ns) {
  return QDateTime::fromMSecsSinceEpoch(unix_ns / 1'000'000).toString("yyyy-MM-dd HH:mm:ss");
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

// Table cells: no pipe or newline may break the row.
std::string cell(std::string text) {
  for (char& c : text) {
    if (c == '|' || c == '\n' || c == '\r') c = ' ';
  }
  return text.empty() ? "-" : text;
}

}  // namespace

int run_runs(const QStringList& args) {
  QCommandLineParser parser;
  parser.setApplicationDescription("List the runs a trace file holds.");
  parser.addHelpOption();
  add_trace_options(parser, {.run = false, .json = true});
  if (const auto done = parse_command_line(parser, args)) return *done;
  if (!parser.positionalArguments().isEmpty()) {
    print_error("runs: unexpected argument '" + parser.positionalArguments().first() + "'");
    return kUsage;
  }
  try {
    OpenedTrace trace = open_trace(parser, {.run = false, .json = true});
    storage::TraceReader& reader = *trace.reader;
    QJsonArray runs;
    std::string table =
        "| id | status | label | model | architecture | requests | prefill | decode | generated | "
        "routing entries | policies | started | duration |\n"
        "|---:|---|---|---|---|---:|---:|---:|---:|---:|---|---|---:|\n";
    for (const storage::RunSummary& r : reader.runs()) {
      int64_t entries = 0;
      for (const storage::LayerAggregate& l : reader.layer_aggregates(r.id))
        entries += l.activations;
      const bool complete = r.status == storage::RunStatus::kComplete;
      const double seconds = complete ? double(r.ended_unix_ns - r.started_unix_ns) / 1e9 : 0.0;
      const int32_t decode = r.n_forwarded - r.n_prefill;
      const int32_t generated = r.n_tokens - r.n_prefill;
      // A recorded run is one request; a batched or imported one holds many.
      const auto requests = int64_t(reader.requests(r.id).size());
      QJsonArray policies;
      for (const std::string& p : r.policies) policies.append(QString::fromStdString(p));
      QJsonObject run{
          {"id", qint64(r.id)},
          {"status", QString::fromStdString(std::string(storage::run_status_name(r.status)))},
          {"label", QString::fromStdString(r.label)},
          {"model_path", QString::fromStdString(r.model_path)},
          {"architecture", QString::fromStdString(r.architecture)},
          {"moe_layers", r.n_moe_layers},
          {"requests", qint64(requests)},
          {"tokens", r.n_tokens},
          {"forwarded_tokens", r.n_forwarded},
          {"prefill_tokens", r.n_prefill},
          {"decode_tokens", decode},
          {"generated_tokens", generated},
          {"routing_entries", qint64(entries)},
          {"policies", policies},
          {"started_unix_ns", qint64(r.started_unix_ns)},
          {"started", local_time(r.started_unix_ns)}};
      if (complete) {
        run["ended_unix_ns"] = qint64(r.ended_unix_ns);
        run["duration_s"] = seconds;
      }
      runs.append(run);
      table += fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
                           r.id, storage::run_status_name(r.status), cell(r.label),
                           cell(std::filesystem::path(r.model_path).filename().string()),
                           cell(r.architecture), requests, r.n_prefill, decode, generated, entries,
                           cell(join(r.policies)), local_time(r.started_unix_ns).toStdString(),
                           complete ? fmt::format("{:.1f} s", seconds) : std::string("-"));
    }
    if (trace.json) {
      const QJsonObject out{{"trace", QString::fromStdString(reader.path().string())},
                            {"runs", runs}};
      std::printf("%s", QJsonDocument(out).toJson().constData());
    } else if (runs.isEmpty()) {
      std::printf("%s holds no runs\n", reader.path().string().c_str());
    } else {
      std::fputs(table.c_str(), stdout);
    }
  } catch (const Error& e) {
    print_error(trace_usage_error(parser) ? QString("runs: ") + e.what() : QString(e.what()));
    return trace_usage_error(parser) ? kUsage : kFailure;
  }
  return kSuccess;
}

}  // namespace moescope::cli
