#pragma once
// One generation on the engine thread: prompt -> tokens streamed into a RunRecorder, with the real
// expert store attached when offloading is on. The GUI thread creates the job, may set `cancel`
// at any time (the generator checks it before every token, so Stop takes effect within one
// token), and reads the results once the job reports that it finished.
#include <QString>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>

#include "engine/model/generator.h"
#include "engine/offload/expert_store.h"
#include "engine/policy/cache_counters.h"
#include "views/session/loaded_model.h"
#include "views/session/run_recorder.h"
#include "views/session/run_settings.h"

namespace moescope::views {

struct GenerationJob {
  GenerationJob(uint64_t id, std::shared_ptr<LoadedModel> model, RunSettings settings);

  // Engine thread. Never throws: failures end up in `error`.
  void run();

  const uint64_t id;
  const std::shared_ptr<LoadedModel> model;
  const RunSettings settings;
  std::atomic<bool> cancel{false};
  RunRecorder recorder;

  // Results, valid after run() returned.
  bool ok = false;
  QString error;
  GenerationStats stats;
  bool offloaded = false;
  std::optional<policy::CacheReport> live_decisions;  // the expert store's own counters
  offload::StoreStats store_stats;
};

}  // namespace moescope::views
