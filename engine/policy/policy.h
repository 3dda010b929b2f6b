#pragma once
// The eviction/placement policy interface. The same object serves the real expert cache
// (engine/offload) and the simulator: the cache owns residency and capacity accounting and asks
// the policy three things — may this expert enter, which resident expert leaves, and it reports
// every access, insertion and eviction. Hints (the running layer, router probabilities, the
// recorded future for oracles) arrive through on_step / on_router / the constructor.
//
// Call order for one demand access at stream position seq:
//   on_access(key, seq, resident)
//   if not resident and admit(key): while it does not fit: choose_victim -> on_evict(victim)
//                                   then on_insert(key)
// A prefetch is the same without on_access. choose_victim returning nullopt means "do not admit":
// the expert is loaded into a scratch buffer, used and dropped (a bypass).
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "engine/common/ids.h"
#include "engine/policy/capacity.h"
#include "engine/policy/moe_shape.h"
#include "engine/policy/routing_trace.h"

namespace moescope::policy {

// One step of the access stream: a layer runs for one decode token or for a prefill chunk.
struct StepInfo {
  TokenPos first_token;
  int32_t n_tokens = 1;
  MoeLayerId layer;
  Phase phase = Phase::kDecode;
  int64_t first_access = 0;  // stream position of the step's first access
};

struct VictimQuery {
  ExpertKey incoming;
  std::optional<MoeLayerId> scope;    // the layer's partition, or nullopt for the global pool
  std::span<const ExpertKey> pinned;  // must stay: the experts of the layer that is running
  bool for_prefetch = false;
};

inline bool is_pinned(std::span<const ExpertKey> pinned, ExpertKey k) {
  for (const ExpertKey& p : pinned)
    if (p == k) return true;
  return false;
}

class CachePolicy {
 public:
  virtual ~CachePolicy() = default;

  // The cache is empty and has this shape and capacity. Called once, before anything else.
  virtual void reset(const MoeShape& shape, const CacheCapacity& capacity) = 0;

  virtual void on_step(const StepInfo& /*step*/) {}
  virtual void on_router(TokenPos /*t*/, MoeLayerId /*l*/, const TokenLayerRouting& /*r*/) {}

  virtual void on_access(ExpertKey key, int64_t seq, bool resident) = 0;
  virtual bool admit(ExpertKey /*key*/, bool /*for_prefetch*/) { return true; }
  virtual std::optional<ExpertKey> choose_victim(const VictimQuery& query) = 0;
  virtual void on_insert(ExpertKey key, bool prefetch) = 0;
  virtual void on_evict(ExpertKey key) = 0;
};

}  // namespace moescope::policy
