#pragma once
// The recording end of the forward pass: a MoeObserver that copies each routing decision into a
// per-forward buffer and hands the whole forward call to the TraceWriter when it ends (one queue
// push per call). Install it as the model's observer, or behind an ExpertStore:
//
//   TraceObserver rec(writer, model);
//   auto store = offload::ExpertStore::attach(model, config, &rec);   // or model.set_observer
//   rec.set_stall_clock([&] { return store->stats().stall_ns; });
//
// Per-layer time is measured between routing callbacks (engine/model/layer_clock.h): layer l's
// interval runs from its routing to the next MoE layer's routing (or the end of the forward call),
// so it holds the layer's experts, their stall and the dense work up to the next router. Stall is
// the growth of the stall clock over the same interval.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "engine/model/hparams.h"
#include "engine/model/layer_clock.h"
#include "engine/model/moe_observer.h"
#include "storage/trace_writer.h"

namespace moescope {
class Model;
class RouterProbe;
}  // namespace moescope

namespace moescope::storage {

class TraceObserver final : public MoeObserver {
 public:
  // Records into the writer's current run (its shape maps model blocks to MoE layers).
  explicit TraceObserver(TraceWriter& writer);
  ~TraceObserver() override;

  // Records next-gate(distance, k') predictions (k' 0: the target layer's top-k) for decode calls,
  // computed from each routing event's hidden state exactly as the expert store computes them
  // (engine/model/router_probe.h), so that a replay prefetches what the live run prefetched.
  // Call after begin_run (it tells the writer that the run has predictions).
  void enable_next_gate(Model& model, int32_t distance, int32_t k_prime);

  // Records every forwarded token's router candidates (storage/router_candidates.h): its
  // min(2k, E) most probable experts at each MoE layer with their probabilities under `gating`,
  // taken from the router's output before any lossy variant changes the choice. For the variants
  // that choose beyond the top-k (capacity-aware gating).
  void enable_router_candidates(GatingFunc gating);

  // Cumulative nanoseconds compute has waited for expert loads (e.g. ExpertStore stats).
  void set_stall_clock(std::function<int64_t()> clock) { stall_clock_ = std::move(clock); }
  // Routing events go on to this observer too (may be null).
  void set_next(MoeObserver* next) { next_ = next; }
  // Forward calls of one token are decode, of several prefill, unless overridden.
  void set_phase_override(std::optional<Phase> phase) { phase_override_ = phase; }
  // The next forward call is a step of a batched run (Model::forward_batch numbers its events by
  // row): its rows become trace positions first_pos, first_pos + 1, ..., row r of request
  // requests[r]. A run's positions then count forwarded rows in step order, as the expert store's
  // stream does.
  void set_next_step(int32_t first_pos, std::vector<int32_t> requests);

  void on_forward_begin(TokenPos first, int n_tokens) override;
  void on_routing(const MoeRoutingEvent& event) override;
  void on_forward_end() override;

 private:
  int64_t stall_now() const { return stall_clock_ ? stall_clock_() : 0; }

  TraceWriter& writer_;
  std::function<int64_t()> stall_clock_;
  MoeObserver* next_ = nullptr;
  std::optional<Phase> phase_override_;
  std::vector<int64_t> key_base_;  // [n_layers] first dense key of each layer
  int32_t n_layers_ = 0;
  int32_t k_max_ = 1;
  int64_t total_experts_ = 0;
  bool full_logits_ = false;
  std::optional<GatingFunc> candidates_gating_;  // record router candidates (schema 4)
  std::vector<int64_t> candidate_offsets_;       // [n_layers + 1]
  std::vector<float> probs_;                     // one layer's router probabilities
  std::unique_ptr<RouterProbe> probe_;
  int32_t gate_distance_ = 0, gate_k_prime_ = 0;

  // The next batched step (set_next_step), taken by its forward call.
  std::optional<int32_t> step_first_pos_;
  std::vector<int32_t> step_requests_;

  // The forward call being recorded.
  bool active_ = false;
  int32_t call_first_ = 0;  // the position its events name its first row by
  ForwardRecord rec_;
  int64_t stall_begin_ = 0;
  LayerClock clock_;
};

}  // namespace moescope::storage
