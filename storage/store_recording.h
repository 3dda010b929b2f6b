#pragma once
// Records what an offload::ExpertStore did into the writer's current run, without touching the
// store: its driving policy and every shadow of config.compare as policy rows (with the exact
// capacities they ran with), their counters, and the measured layer compute the modelled time
// used, so that replay_recorded_policy reproduces each of them. The cache events and routing
// outcomes come from a mirror of the driving policy that the writer thread simulates on the
// recorded routing: the same hits, misses, evictions and prefetches as the store (decisions do
// not depend on time), with late flags and waits modelled by the timing model. (With the
// next-gate prefetcher, whose predictions only the engine can make, only when the observer
// records them: TraceObserver::enable_next_gate before constructing this. Else no events.)
//
//   TraceObserver observer(writer);
//   auto store = ExpertStore::attach(model, config, &observer);
//   observer.set_stall_clock([&] { return store->stats().stall_ns; });
//   StoreRecording rec(writer, *store, config);
//   ... generate, calling rec.progress() now and then (between forward calls) ...
//   rec.finish();  writer.finish_run(...);
#include <cstdint>
#include <vector>

#include "engine/offload/expert_store.h"
#include "engine/offload/offload_config.h"
#include "storage/trace_writer.h"

namespace moescope::storage {

class StoreRecording {
 public:
  // Adds the policies to the writer's run (the driving one first, as the primary).
  StoreRecording(TraceWriter& writer, const offload::ExpertStore& store,
                 const offload::OffloadConfig& config);

  // The driving policy's token counters and the compute times so far. O(tokens): call it about
  // once a second, between forward calls.
  void progress();
  // Everything, shadows included (oracle shadows are evaluated now). Call once, at the end.
  void finish();

  int32_t primary() const { return primary_; }
  const std::vector<int32_t>& shadows() const { return shadows_; }

 private:
  TraceWriter& writer_;
  const offload::ExpertStore& store_;
  int32_t primary_ = 0;
  std::vector<int32_t> shadows_;  // [config.compare]
};

}  // namespace moescope::storage
