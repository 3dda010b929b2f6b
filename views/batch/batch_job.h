#pragma once
// A batched workload on the engine thread, through the same session pipeline as `moescope batch`
// (storage/session/generation_session.h: GenerationSession::run_batch): the window's cache and
// recording settings become the session configuration (views/session/session_config.h), the
// workload's prompts the requests, its scheduler, batch size and arrival the BatchConfig. With
// two schedulers the same workload runs twice, one run after the other (FIFO vs expert-aware
// side by side); scheduling is exact, so both give every request the same text.
#include <QString>
#include <QStringList>

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "views/batch/batch_recorder.h"
#include "views/session/loaded_model.h"
#include "views/session/run_settings.h"

namespace moescope::views {

struct BatchWorkload {
  QStringList prompts;
  int max_batch = 4;                  // requests per step
  QString arrival = "all";            // "all" or "poisson:RATE" (requests per second)
  uint64_t arrival_seed = 42;         // of the Poisson arrivals
  QStringList schedulers = {"fifo"};  // one run each, in order, on the same workload
  int max_new_tokens = 32;
};

// Throws moescope::Error naming the problem: no prompts, an empty prompt ("prompt N is empty"),
// an unknown scheduler or arrival, a batch size below 1.
void check_workload(const BatchWorkload& workload);

struct BatchJob {
  // Checks the workload (throws like check_workload) and prepares one recorder per scheduler.
  BatchJob(uint64_t id, const LoadedModel& model, RunSettings settings, BatchWorkload workload);

  // Engine thread: runs the workload once per scheduler, until done or cancelled. Never throws:
  // a failure ends up in `error`.
  void run(LoadedModel& model);

  const uint64_t id;
  const RunSettings settings;
  const BatchWorkload workload;
  // Shared with the stop button, which may outlive the job.
  std::shared_ptr<std::atomic<bool>> cancel = std::make_shared<std::atomic<bool>>(false);
  std::vector<std::unique_ptr<BatchRecorder>> recorders;  // [schedulers]

  // Valid after run() returned.
  bool ok = false;
  QString error;
};

}  // namespace moescope::views
