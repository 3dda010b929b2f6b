#include "app/cli/trace_options.h"

#include "engine/common/error.h"

namespace moescope::cli {

void add_trace_options(QCommandLineParser& parser, TraceOptionsSpec spec) {
  parser.addOption({"trace", "The trace file (SQLite) to read.", "FILE"});
  if (spec.run) parser.addOption({"run", "The run to use (default: the newest).", "ID"});
  parser.addOption({"quiet", "No progress bar."});
  if (spec.json) parser.addOption({"json", "Print JSON instead of a table."});
}

namespace {

// 0: not given; -1: not a run id.
int64_t run_flag(const QCommandLineParser& parser) {
  if (!parser.optionNames().contains("run")) return 0;
  bool ok = false;
  const qlonglong id = parser.value("run").toLongLong(&ok);
  return ok && id > 0 ? int64_t(id) : -1;
}

}  // namespace

bool trace_usage_error(const QCommandLineParser& parser) {
  if (!parser.isSet("trace") || parser.value("trace").isEmpty()) return true;
  return run_flag(parser) < 0;
}

OpenedTrace open_trace(const QCommandLineParser& parser, TraceOptionsSpec spec) {
  if (!parser.isSet("trace") || parser.value("trace").isEmpty()) {
    fail("--trace: a trace file is required");
  }
  const int64_t run = spec.run ? run_flag(parser) : 0;
  if (run < 0) {
    fail("--run: '{}' is not a run id (a positive integer)", parser.value("run").toStdString());
  }
  OpenedTrace out;
  out.quiet = parser.isSet("quiet");
  out.json = spec.json && parser.isSet("json");
  out.reader =
      std::make_unique<storage::TraceReader>(parser.value("trace").toLocal8Bit().toStdString());
  // The command reads one moment of the file even while a record appends to it.
  out.reader->hold_snapshot();
  if (spec.run) {
    if (run > 0) {
      out.reader->check_run(run);
      out.run = run;
    } else {
      out.run = out.reader->latest_run();
    }
  }
  return out;
}

}  // namespace moescope::cli
