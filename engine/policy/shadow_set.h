#pragma once
// Live comparison: while one policy drives the real expert cache, every other selected policy
// runs as a shadow — its own CacheSimulator fed the identical steps (same access stream, budget,
// link and compute times), so each yields the counters a replay of the recorded stream would.
//
// Oracles (belady-bypass, opt, sch, stationary) need the future, which a live run does not have. They
// are evaluated in two passes: the set records the steps as they happen and, at results(), runs
// the oracles over that recording. The recording also gives the one-pass hit-rate curves.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/policy/access_stream.h"
#include "engine/policy/allocators.h"
#include "engine/policy/cache_counters.h"
#include "engine/policy/capacity.h"
#include "engine/policy/prefetcher.h"
#include "engine/policy/simulator.h"

namespace moescope::policy {

// "POLICY" or "POLICY@PREFETCHER" (docs/policies-cli.md); the prefetcher defaults to the
// driving run's.
struct ShadowSpec {
  std::string policy;
  std::string prefetcher;
};
// Parses a comma-separated --compare list; throws moescope::Error naming a bad entry.
std::vector<ShadowSpec> parse_shadow_specs(std::string_view list,
                                           std::string_view default_prefetcher);

struct ShadowSetup {
  MoeShape shape;
  Budget budget = Budget::slots(0);
  // An exact capacity, used by shadows of its pool kind (the others split `budget`).
  std::optional<CacheCapacity> capacity;
  AllocatorKind allocator = AllocatorKind::kUniform;
  TimingModel timing;
  const RoutingTrace* history = nullptr;  // static-freq, fitted prefetchers, allocators
  bool record = false;                    // keep the steps even without oracles (curves)
};

struct ShadowResult {
  std::string policy;  // canonical spelling
  std::string prefetcher;
  bool oracle = false;  // evaluated in a second pass over the recorded stream
  CacheReport report;
};

class ShadowSet {
 public:
  // Throws moescope::Error for a bad spec (each is built, oracles too, before the run starts).
  ShadowSet(ShadowSetup setup, const std::vector<ShadowSpec>& specs);
  ~ShadowSet();
  ShadowSet(const ShadowSet&) = delete;
  ShadowSet& operator=(const ShadowSet&) = delete;

  // The driving cache's steps, as it feeds them to its own simulator.
  void begin_step(const StepInput& in);
  void end_step(int64_t compute_ns);

  // A router probe the engine computed, for the shadows whose prefetcher asked for it.
  void supply_probe(const RouterProbeRequest& probe, PrefetchTarget target,
                    std::span<const ExpertId> experts);
  // The distinct router probes the shadows' prefetchers ask for: what supply_probe() takes.
  std::vector<RouterProbeRequest> router_probes() const;

  // Online shadows as they ran, then the oracles run now over the recording, in spec order.
  std::vector<ShadowResult> results() const;
  // The steps so far as an access stream (empty unless recording).
  bool recording() const { return record_; }
  AccessStream recorded_stream() const;

 private:
  struct Shadow;
  struct LoggedStep;

  void log_begin(const StepInput& in);
  std::unique_ptr<CacheSimulator> build(const ShadowSpec& spec,
                                        std::shared_ptr<const AccessStream> future) const;

  ShadowSetup setup_;
  std::vector<ShadowSpec> specs_;
  std::vector<Shadow> shadows_;  // [specs]; oracles have no live simulator
  bool record_ = false;
  bool record_supplies_ = false;
  std::vector<LoggedStep> log_;
  // (probe, target) -> experts, for replaying probing prefetchers in the oracles' pass.
  std::map<std::pair<RouterProbeRequest, PrefetchTarget>, std::vector<ExpertId>> supplies_;
};

}  // namespace moescope::policy
