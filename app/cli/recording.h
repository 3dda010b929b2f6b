#pragma once
// What the CLI says about a recorded run (`moescope record`, `generate --trace`): the run and the
// policies as read back from the trace, with the store's live counters, and cache counters as
// JSON. The recording itself is the session pipeline's (storage/session/generation_session.h),
// the same for the CLI and the GUI.
#include <QJsonArray>
#include <QJsonObject>
#include <QStringList>

#include <cstdint>
#include <filesystem>
#include <string>

#include "app/cli/offload_options.h"
#include "engine/offload/expert_store.h"
#include "engine/policy/cache_counters.h"
#include "storage/session/generation_session.h"

namespace moescope::cli {

// What a finished recording reports, read back from the trace (so it is what the file holds),
// with the store's live counters of each policy.
struct RecordedRun {
  int64_t run = 0;
  std::string path;
  int64_t routing_entries = 0;
  int32_t forwarded = 0;
  QJsonArray policies;  // {"id" in the trace, "role", "spec", "prefetcher", "live"}, primary first
};
RecordedRun describe_recording(const storage::SessionRecording& recording,
                               const offload::ExpertStore& store);

// What every recording command (generate/record, batch) fills the same way: the trace, the
// label, the model with its absolute path, the seed, and the router logits, which MRS (live or
// shadow) scores and replay must feed it again.
storage::RecordingConfig base_recording_config(const std::filesystem::path& trace,
                                               const std::string& label, bool router_logits,
                                               const OffloadRequest& offload, const Model& model,
                                               const std::string& model_path, uint64_t seed);

// The generate command (generate_command.cpp); record = true is `moescope record`: --trace
// required, the rest identical.
int run_generation_command(const QStringList& args, bool record);

// Every CacheCounters field by name (hit_rate added).
QJsonObject cache_counters_json(const policy::CacheCounters& counters);
// {"prefill", "decode", "total": counters, "end_ns", "layers": {"prefill": [...], "decode":
// [...]}}.
QJsonObject cache_report_json(const policy::CacheReport& report);

}  // namespace moescope::cli
