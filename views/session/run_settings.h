#pragma once
// What a run is asked to do: the prompt, sampling and length, and how experts are cached. The
// settings panel edits it, QSettings keeps it, the controller hands a copy to the engine thread.
#include <QString>
#include <QStringList>

#include <string>
#include <vector>

#include "engine/model/generator.h"
#include "engine/offload/offload_config.h"
#include "engine/policy/moe_shape.h"

namespace moescope::views {

struct CacheSettings {
  // Run the real expert store: experts are loaded into a bounded arena and the forward pass
  // waits for them. Off: experts stay mapped and every policy is simulated on the routing.
  bool offload = true;
  int budget_percent = 25;  // of all routed experts of the model
  QString policy = "lru";
  QString prefetcher = "none";
  QString link = "none";
  QString allocator = "uniform";
  QStringList compare = {"lfu", "fifo", "arc"};  // shadow policies (simulated on the same stream)
  bool bounds = true;                            // belady-bypass and SCH(m) reference lines
  int sch_window = 16;
  // Gating variants that change the computation (lossy; engine/offload/lossy_gating.h). They
  // act on the real expert store, so they need offloading on.
  bool adaptive_top_k = false;
  double adaptive_threshold = 0.3;  // drop a trailing expert whose renormalised weight is below
  bool cache_aware_substitution = false;
  double substitute_eps = 0.05;  // replace a missed expert by a resident one this close
  bool lossy() const { return offload && (adaptive_top_k || cache_aware_substitution); }

  bool operator==(const CacheSettings&) const = default;
};

struct RunSettings {
  QString prompt;
  // Record every run into this trace file (appending runs); empty: no recording.
  QString trace_path;
  GenerationOptions generation;
  int threads = 0;  // 0: the engine's default
  CacheSettings cache;
};

// Total expert slots for a budget in percent of a model's routed experts: at least one per layer.
uint64_t budget_slots(const CacheSettings& cache, const policy::MoeShape& shape);
// Bytes those slots hold when the budget is split evenly over the layers.
uint64_t budget_bytes(const CacheSettings& cache, const policy::MoeShape& shape);
// The expert store's configuration. Throws moescope::Error for an unknown policy, prefetcher,
// link or allocator.
offload::OffloadConfig offload_config(const CacheSettings& cache, const policy::MoeShape& shape);
// The reference oracles drawn beside the policies, in the pool of the chosen policy
// ("belady-bypass", "sch:16" or their -global forms). They run without a prefetcher: only
// AnalysisResult's check (PolicyRun::bound) may call one a bound.
std::vector<std::string> bound_policies(const CacheSettings& cache);

}  // namespace moescope::views
