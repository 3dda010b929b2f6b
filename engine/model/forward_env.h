#pragma once
// What every step of a forward pass runs with: threads, precision, the expert seam, the observer
// and scratch memory.
#include "engine/model/expert_provider.h"
#include "engine/model/moe_observer.h"
#include "engine/model/routing_override.h"
#include "engine/model/workspace.h"
#include "engine/tensor/matmul.h"
#include "engine/tensor/thread_pool.h"

namespace moescope {

class MoeBlock;

struct ForwardEnv {
  ThreadPool& pool;
  MatmulPrecision precision;
  ExpertProvider& experts;
  MoeObserver* observer;  // may be null
  Workspace& ws;
  MoeBlock& moe;
  RoutingOverride* routing = nullptr;  // lossy gating variants; null = exact
};

}  // namespace moescope
