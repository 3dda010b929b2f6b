#pragma once
// The GUI's run settings as the session pipeline's configuration
// (storage/session/generation_session.h): the expert store with the compared policies as its
// shadows when the run is recorded, and the recording itself. With offloading the trace holds the
// store's own policy and shadows; without it the chosen and compared online policies are
// simulated by the writer on the recorded routing. Reopening the trace shows the same run
// (views/session/trace_loading.h).
#include "storage/session/generation_session.h"
#include "views/session/loaded_model.h"
#include "views/session/run_settings.h"

namespace moescope::views {

// Throws moescope::Error for an unknown policy, prefetcher, link or allocator.
storage::SessionConfig session_config(const LoadedModel& model, const RunSettings& settings);

}  // namespace moescope::views
