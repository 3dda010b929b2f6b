#pragma once
// The observer adapter between the engine and the GUI. It sits on the engine thread as the model's
// MoeObserver (behind the expert store when offloading is on), copies each routing decision out
// of the forward pass, and at the end of every forward hands the tokens' rows to a pending
// RunDelta. The GUI thread takes the pending delta whenever it refreshes; nothing here blocks the
// forward pass for longer than appending to vectors.
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "engine/model/hparams.h"
#include "engine/model/layer_clock.h"
#include "engine/model/moe_observer.h"
#include "engine/policy/moe_shape.h"
#include "views/session/run_delta.h"

namespace moescope {
class Model;
class RouterProbe;
}  // namespace moescope

namespace moescope::views {

class RunRecorder final : public MoeObserver {
 public:
  // shape: the model's MoE layers (which block each one is; dense blocks are not recorded).
  RunRecorder(policy::MoeShape shape, GatingFunc gating);
  ~RunRecorder() override;

  // Records next-gate(d, k') predictions for decode tokens, computed from each routing event's
  // hidden state exactly as the expert store computes them (k_prime 0: the target's top-k).
  // top_k: [n_layers] each MoE layer's nominal k.
  void enable_next_gate(Model& model, int32_t distance, int32_t k_prime,
                        std::vector<int32_t> top_k);

  // Cumulative measured stall of the expert store, or none. Read at the end of each forward and,
  // for the layer compute, at each MoE layer's first routing (as storage::TraceObserver does).
  void set_stall_source(std::function<int64_t()> total_stall_ns) {
    stall_source_ = std::move(total_stall_ns);
  }

  // Engine thread.
  void add_token(TokenInfo token);
  void add_tail_text(const QString& text);
  void on_forward_begin(TokenPos first, int n_tokens) override;
  void on_routing(const MoeRoutingEvent& event) override;
  void on_forward_end() override;

  // Any thread: everything recorded since the last take().
  RunDelta take();
  int routed_total() const;

 private:
  struct Cell {
    std::vector<ExpertId> experts;
    std::vector<float> weights;
    float entropy = 0;
    bool seen = false;
  };

  policy::MoeShape shape_;
  int n_layers_;
  GatingFunc gating_;
  std::function<int64_t()> stall_source_;
  int64_t stall_seen_ = 0;
  bool topk_entropy_ = false;  // an event came without router logits
  std::unique_ptr<RouterProbe> probe_;
  int32_t gate_distance_ = 0, gate_k_prime_ = 0;
  std::vector<int32_t> top_k_;  // [n_layers]
  std::vector<GatePrediction> forward_predictions_;

  // The forward in progress (engine thread only).
  int forward_first_ = 0;
  int forward_tokens_ = 0;
  std::vector<Cell> cells_;  // [forward_tokens][n_layers]
  LayerClock clock_;
  std::vector<int64_t> layer_ns_, layer_stall_ns_;  // [n_layers] of the forward that ended

  mutable std::mutex mu_;
  RunDelta pending_;
  int routed_total_ = 0;
};

}  // namespace moescope::views
