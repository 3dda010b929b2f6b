#pragma once
// The packed integer keys of the big tables (docs/trace-format.md). Their rows are stored in key
// order in rowid tables, so recording only ever appends and the key is one varint; the parts are
// also visible as virtual columns (run, pos, and seq for events).
//
//   routing, layer_timings, router_logits, cache_compute (a row per token or forward call):
//       id = run << 44 | pos << 16
//   cache_events:
//       id = run << 48 | pos << 20 | seq
#include <cstdint>

namespace moescope::storage {

inline constexpr int64_t kMaxRuns = (int64_t(1) << 15) - 1;  // run ids 1 .. kMaxRuns
inline constexpr int64_t kMaxPositions = int64_t(1) << 28;
inline constexpr int64_t kMaxLayers = 256;  // MoE layers
inline constexpr int64_t kMaxRank = 256;    // experts a token selects
inline constexpr int64_t kMaxEventsPerPos = int64_t(1) << 20;

constexpr int64_t token_key(int64_t run, int64_t pos) {
  return (run << 44) + (pos << 16);  // + so that pos = 2^28 ends the run
}
constexpr int64_t event_key(int64_t run, int64_t pos, int64_t seq) {
  return (run << 48) + (pos << 20) + seq;
}

}  // namespace moescope::storage
