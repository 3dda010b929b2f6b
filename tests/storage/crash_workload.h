#pragma once
// The crash test's recording: decode tokens whose routing is a fixed function of the position, so
// the parent can check every recorded row without talking to the (dead) child.
#include <cstdint>

#include "engine/common/ids.h"
#include "engine/model/moe_observer.h"
#include "storage/trace_observer.h"
#include "storage/trace_writer.h"
#include "tests/storage/storage_test_util.h"

namespace moescope::storage::test {

inline constexpr int32_t kCrashLayers = 8;
inline constexpr int32_t kCrashExperts = 8;
inline constexpr int32_t kCrashTopK = 2;

inline RunInfo crash_run_info() {
  return fake_run_info(policy::MoeShape::uniform(kCrashLayers, kCrashExperts, kCrashTopK, 1 << 20),
                       "crash");
}

// Expert `rank` of position pos at layer l.
inline ExpertId crash_expert(int32_t pos, int32_t l, int32_t rank) {
  const int32_t first = (pos * 3 + l * 5) % kCrashExperts;
  return ExpertId(rank == 0 ? first
                            : (first + 1 + (pos + l) % (kCrashExperts - 1)) % kCrashExperts);
}

inline float crash_weight(int32_t pos, int32_t l, int32_t rank) {
  return rank == 0 ? 0.5f + float((pos + l) % 7) / 16.0f : 0.5f - float((pos + l) % 7) / 16.0f;
}

// One decode forward call at `pos`, as Model::forward reports it.
inline void crash_forward(TraceWriter& writer, TraceObserver& observer, int32_t pos) {
  writer.token(pos, pos % 4096, "t");
  observer.on_forward_begin(TokenPos(pos), 1);
  float logits[kCrashExperts];
  for (int32_t l = 0; l < kCrashLayers; ++l) {
    const ExpertId experts[kCrashTopK] = {crash_expert(pos, l, 0), crash_expert(pos, l, 1)};
    const float weights[kCrashTopK] = {crash_weight(pos, l, 0), crash_weight(pos, l, 1)};
    for (int32_t e = 0; e < kCrashExperts; ++e) logits[e] = fake_logit(pos, l, e);
    observer.on_routing(
        MoeRoutingEvent{LayerId(l), TokenPos(pos), {}, logits, experts, weights, weights});
  }
  observer.on_forward_end();
}

}  // namespace moescope::storage::test
