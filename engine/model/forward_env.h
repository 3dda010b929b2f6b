#pragma once
// What every step of a forward pass runs with: threads, precision, the expert seam, the observer
// and scratch memory.
#include <cstdint>
#include <span>

#include "engine/model/expert_provider.h"
#include "engine/model/moe_observer.h"
#include "engine/model/routing_override.h"
#include "engine/model/workspace.h"
#include "engine/tensor/matmul.h"
#include "engine/tensor/thread_pool.h"

namespace moescope {

class MoeBlock;
class InferenceState;

// One sequence's rows in a forward call: rows row0 .. row0 + n - 1, at positions first_pos ..
struct SequenceRows {
  int64_t row0 = 0;
  int64_t n = 0;
  int64_t first_pos = 0;
  InferenceState* state = nullptr;
};

struct ForwardEnv {
  ThreadPool& pool;
  MatmulPrecision precision;
  ExpertProvider& experts;
  MoeObserver* observer;  // may be null
  Workspace& ws;
  MoeBlock& moe;
  RoutingOverride* routing = nullptr;  // lossy gating variants; null = exact
  // The call's sequences. With more than one, a product whose rounding depends on the batch size
  // (matmul_batch_invariant) is computed per sequence, so each sequence gets the values it gets
  // when run alone.
  std::span<const SequenceRows> sequences = {};
};

}  // namespace moescope
