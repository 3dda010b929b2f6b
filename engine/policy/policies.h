#pragma once
// Constructors of every eviction/placement policy (definitions: docs/policies.md of the shared
// reference, spelling: docs/policies-cli.md). Whether a policy runs per layer or over one global
// pool is decided by the CacheCapacity it is reset with, not by the policy object.
#include <cstdint>
#include <memory>

#include "engine/policy/access_stream.h"
#include "engine/policy/policy.h"
#include "engine/policy/routing_trace.h"

namespace moescope::policy {

// Nothing is cached: every routed expert is loaded, used, dropped.
std::unique_ptr<CachePolicy> make_on_demand();
std::unique_ptr<CachePolicy> make_lru();
std::unique_ptr<CachePolicy> make_fifo();
// LFU over all (l, e) counts, every count multiplied by gamma per token; ties by LRU.
std::unique_ptr<CachePolicy> make_lfu(double gamma);
std::unique_ptr<CachePolicy> make_random(uint64_t seed);
std::unique_ptr<CachePolicy> make_arc();
// HybriMoE's score: S <- alpha * p * [e in top-2k] + (1 - alpha) * S per token and layer.
std::unique_ptr<CachePolicy> make_mrs(double alpha);
// Evict entries of layers that already ran for this token first (LRU among them), else LRU.
std::unique_ptr<CachePolicy> make_least_stale();
// LRU that never evicts layers [cur, cur + window) (wrapping into the next token).
std::unique_ptr<CachePolicy> make_layer_lookahead(int32_t window);

// Pins the most-routed experts of an earlier trace: top c_l per layer (per-layer pool) or top C
// overall (global pool); never evicts, other experts bypass the cache.
std::unique_ptr<CachePolicy> make_static_freq(const RoutingTrace& history);
// Pins whole layers from the first (or, for back = true, the last) while they fit.
std::unique_ptr<CachePolicy> make_static_layers(bool back);

// Oracles: they read the recorded future access stream.
// Evicts the entry used farthest in the future. With bypass, an expert used later than every
// resident one is not admitted (optimal over all policies for unit sizes); without, it is demand
// paging MIN, the policy of the OPT stack curve.
std::unique_ptr<CachePolicy> make_belady(std::shared_ptr<const AccessStream> future, bool bypass);
// Evicts the entry with the fewest accesses in the segment [t, t + m) of m tokens starting at the
// running token t (Liang et al.'s SCH(m)); ties by LRU.
std::unique_ptr<CachePolicy> make_sch(std::shared_ptr<const AccessStream> future, int32_t m);
// Pins the experts most used over the whole recording (like static-freq with the future).
std::unique_ptr<CachePolicy> make_stationary(std::shared_ptr<const AccessStream> future);

}  // namespace moescope::policy
