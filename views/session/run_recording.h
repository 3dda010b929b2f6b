#pragma once
// Records a GUI run into a trace file with the storage writer, the way `moescope record` does:
// the routing through a TraceObserver (first in the observer chain after the expert store), the
// tokens as they stream, and the cache: with offloading the store's own policy and shadows
// (StoreRecording), without it the chosen and compared online policies simulated by the writer.
// Reopening the trace shows the same run (views/traces/trace_loading.h).
#include <QString>

#include <memory>
#include <string>
#include <vector>

#include "engine/model/generator.h"
#include "engine/offload/expert_store.h"
#include "storage/store_recording.h"
#include "storage/trace_observer.h"
#include "storage/trace_writer.h"
#include "views/session/loaded_model.h"
#include "views/session/run_settings.h"

namespace moescope::views {

class RunRecording {
 public:
  // Starts a run in `settings.trace_path` (created or appended to). Throws moescope::Error.
  RunRecording(const LoadedModel& model, const RunSettings& settings,
               const std::vector<int32_t>& prompt, const std::vector<std::string>& pieces);
  ~RunRecording();

  // The observer to put between the routing source and `next`.
  MoeObserver* observer(MoeObserver* next);
  // With offloading: the store whose policy and shadows are recorded; call after attaching it.
  void set_store(const offload::ExpertStore& store, const offload::OffloadConfig& config);
  void token(const TokenEvent& event);
  // Completes the run (the trace then says "complete").
  void finish();

 private:
  const RunSettings& settings_;
  const LoadedModel& model_;
  std::unique_ptr<storage::TraceWriter> writer_;
  std::unique_ptr<storage::TraceObserver> observer_;
  std::unique_ptr<storage::StoreRecording> store_recording_;
  bool finished_ = false;
};

}  // namespace moescope::views
