#pragma once
// What the MoE block reports for every token at every MoE layer. This is what MoEScope profiles:
// routing traces, expert statistics and prefetchers all start from these callbacks.
#include <span>

#include "engine/common/ids.h"

namespace moescope {

// One routing decision. The spans point into the forward pass's buffers and are valid only during
// the callback.
struct MoeRoutingEvent {
  LayerId layer;
  TokenPos pos;  // the token's position; in a Model::forward_batch call its row in the call
  // [n_embd] residual stream after the layer's attention (the router's input before the FFN
  // norm): the freshest state a later layer's router can be probed on when this one routes
  // (next-gate); the stream entering the layer would miss this layer's attention.
  std::span<const float> hidden;
  std::span<const float> router_logits;  // [n_expert] router output (+ router bias)
  std::span<const ExpertId> experts;     // [n_expert_used] selected experts, best first
  std::span<const float> weights;        // [n_expert_used] their mixing weights, same order
  std::span<const float> scores;         // [n_expert_used] their selection scores, same order
};

class MoeObserver {
 public:
  virtual ~MoeObserver() = default;

  // Brackets one Model::forward call over positions first .. first + n_tokens - 1.
  virtual void on_forward_begin(TokenPos first, int n_tokens) {
    (void)first;
    (void)n_tokens;
  }
  // Once per token and MoE layer: layer by layer, and within a layer in position order (a batch
  // reports all its tokens for layer l before layer l + 1). Called on the forward pass's thread
  // before the experts run, so keep it cheap.
  virtual void on_routing(const MoeRoutingEvent& event) = 0;
  virtual void on_forward_end() {}
};

}  // namespace moescope
