#pragma once
// Recorded traces as the GUI reads them (storage/trace_reader.h): the runs of a file, one run
// turned into the RunDelta a live run produces (so every view shows it the same way), and two
// runs compared token by token.
#include <QString>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <vector>

#include "engine/policy/moe_shape.h"
#include "storage/trace_reader.h"
#include "views/session/run_delta.h"
#include "views/session/run_settings.h"

namespace moescope::views {

struct LoadedRun {
  policy::MoeShape shape;
  RunDelta data;
  QString title;
  // The recorded cache (chosen policy, shadows, budget, link), when the run had one: the
  // analysis replays with it.
  std::optional<CacheSettings> cache;
  int64_t run_id = 0;
  QString model_name;        // the model the run was recorded with
  bool other_model = false;  // a model is loaded and it is not the one the run used
};

struct LoadedModel;

// Reads a run (the newest when run < 0). Throws moescope::Error naming the file and the problem.
// Control tokens (BOS, EOS, ...) are marked as a live run marks them, from the kinds the trace
// recorded (schema 2). A schema-1 trace has none: there `model`, when it is the model the run used
// (same architecture, vocabulary and experts), classifies them with its vocabulary. The run's
// next-gate predictions come along for the analysis' replay.
LoadedRun load_trace_run(const std::filesystem::path& path, int64_t run = -1,
                         const LoadedModel* model = nullptr);
// The runs of a trace file. Throws moescope::Error.
std::vector<storage::RunSummary> list_trace_runs(const std::filesystem::path& path);

struct RunComparison {
  struct Row {
    int32_t pos = 0;
    int32_t id_a = -1, id_b = -1;  // -1: the run has no token here
    QString text_a, text_b;
    int layers_differ = -1;  // MoE layers whose selected expert sets differ; -1: not both routed
    int64_t misses_a = -1, misses_b = -1;  // the primary cache's misses at this token, -1: unknown
  };
  int64_t run_a = 0, run_b = 0;
  int first_divergent_token = -1;    // first position whose token differs, -1: none
  int first_divergent_routing = -1;  // first position routed differently at some layer
  std::vector<Row> rows;
};

// Aligns two runs of one trace by position. Throws moescope::Error (unknown run, other model).
// `model` names control tokens as in load_trace_run.
RunComparison compare_trace_runs(const std::filesystem::path& path, int64_t run_a, int64_t run_b,
                                 const LoadedModel* model = nullptr);

}  // namespace moescope::views
