#pragma once
// A batched run read back from a trace (`moescope batch --trace`, or the window's workload mode
// with recording on) as the workload views show a live one: each request's prompt and generated
// text (its tokens in position order are its prompt, then its generation), state, TTFT and TPOT
// from the run's summary, and each step's routing counted the way the live run counts it
// (step_accumulator.h), with the bytes the recorded primary cache loaded for it.
#include <cstdint>
#include <filesystem>
#include <optional>

#include "views/batch/batch_run.h"

namespace moescope::views {

// Run `run` of the trace (the newest when < 0) as a batched run, or nothing when it is not one
// (a single request recorded without steps). Throws moescope::Error naming the file and the
// problem.
std::optional<BatchRun> load_batch_run(const std::filesystem::path& path, int64_t run = -1);

}  // namespace moescope::views
