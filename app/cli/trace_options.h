#pragma once
// The flags every trace-reading command shares (runs, replay, report, export): --trace FILE,
// --run ID (default: the newest run), --quiet and --json.
#include <QCommandLineParser>

#include <cstdint>
#include <memory>

#include "storage/trace_reader.h"

namespace moescope::cli {

struct TraceOptionsSpec {
  bool run = true;   // the command works on one run (--run)
  bool json = true;  // the command can print JSON (--json)
};

void add_trace_options(QCommandLineParser& parser, TraceOptionsSpec spec = {});

struct OpenedTrace {
  std::unique_ptr<storage::TraceReader> reader;
  int64_t run = 0;  // --run, or the newest run (0 when spec.run was false)
  bool quiet = false;
  bool json = false;
};

// Opens --trace and resolves --run. Throws moescope::Error: kUsage-worthy problems (no --trace,
// a --run that is not a number) start with the flag name; a missing or corrupt trace or an
// unknown run id name the file (exit 1). See trace_usage_error().
OpenedTrace open_trace(const QCommandLineParser& parser, TraceOptionsSpec spec = {});

// True when an error thrown by open_trace() is a usage error (exit code 2).
bool trace_usage_error(const QCommandLineParser& parser);

}  // namespace moescope::cli
