#pragma once
// Shared by the storage tests and the crash child: scratch files, a fake model description, a
// routing trace played through a TraceObserver exactly as the forward pass reports it, and (tests
// only) the check that a call fails with one clear line.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "engine/common/error.h"
#include "engine/policy/routing_trace.h"
#include "storage/trace_observer.h"
#include "storage/trace_types.h"
#include "storage/trace_writer.h"

namespace moescope::storage::test {

// A fresh path in this binary's scratch directory (old file and its -wal/-shm removed).
std::filesystem::path temp_path(const std::string& name);

RunInfo fake_run_info(const policy::MoeShape& shape, const std::string& label = "synthetic");

// The router logit the fake forward pass reports for expert e of MoE layer l at position pos.
float fake_logit(int32_t pos, int32_t layer, int32_t expert);

// Plays `trace` through `observer` like Model::forward: prefill in calls of `chunk` tokens (0:
// one call for the whole prefill), decode one token per call; token ids are sent to the writer
// first (trace.token_id, or 100 + pos). after_call runs after each call with its first position.
void play(TraceWriter& writer, TraceObserver& observer, const policy::RoutingTrace& trace,
          int32_t chunk, const std::function<void(int32_t first, int32_t n)>& after_call = {});

// Records `trace` as one finished run of `writer`: a primary simulated policy caching 2 experts per
// layer, and the routing played with prefill calls of `chunk` tokens.
void record_run(TraceWriter& writer, const policy::RoutingTrace& trace, int32_t chunk,
                const std::string& label = "synthetic");

// First positions of the forward calls play() makes.
std::vector<int32_t> call_starts(const policy::RoutingTrace& trace, int32_t chunk);

// Runs `f`, which must throw a moescope::Error whose one-line message contains `needle`. A header
// template: the crash child, which does not link GoogleTest, includes this file but never calls it.
template <typename F>
void expect_error(F&& f, const std::string& needle) {
  try {
    f();
    ADD_FAILURE() << "no error; expected one containing: " << needle;
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(needle), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
  }
}

}  // namespace moescope::storage::test
