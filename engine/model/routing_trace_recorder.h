#pragma once
// Records the forward pass's routing callbacks as a policy::RoutingTrace: what the routing
// statistics, the cache simulator and the trace writer read. The forward pass reports a batch
// layer by layer; the trace is token by token, so each forward call's events are buffered and
// appended when it ends.
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "engine/model/hparams.h"
#include "engine/model/moe_observer.h"
#include "engine/policy/moe_shape.h"
#include "engine/policy/routing_trace.h"

namespace moescope {

class Model;

// The routed experts of `model` as the policy library counts them: MoE layers only (dense blocks
// are skipped), model_layer[m] = block index, expert_bytes = one expert's gate+up+down bytes.
policy::MoeShape routed_expert_shape(const Model& model);

// The router's distribution over all experts of one token, for the router-entropy statistic:
// softmax of the logits for softmax gating (and gpt-oss's softmax-after-top-k, whose selection is
// the softmax's top-k too); sigmoid and sqrt-softplus scores normalised to sum 1.
// probs.size() must equal logits.size().
void router_distribution(GatingFunc gating, std::span<const float> logits, std::span<float> probs);

class RoutingTraceRecorder final : public MoeObserver {
 public:
  // with_probs keeps every token's full router distribution ([n_tokens][total experts] floats).
  RoutingTraceRecorder(const Model& model, bool with_probs);

  // Describes the next forward call (optional): its token ids for the trace's token_id column,
  // and its phase. Without it a call of several tokens counts as prefill, of one as decode, and
  // token ids are unknown. The description applies to one call only.
  void describe_next_forward(std::span<const int32_t> tokens,
                             std::optional<policy::Phase> phase = std::nullopt);

  void on_forward_begin(TokenPos first, int n_tokens) override;
  void on_routing(const MoeRoutingEvent& event) override;
  void on_forward_end() override;

  int64_t n_tokens() const { return n_tokens_; }
  const policy::MoeShape& shape() const { return shape_; }
  // The trace so far; the recorder starts empty again.
  policy::RoutingTrace finish();

 private:
  policy::MoeShape shape_;
  GatingFunc gating_;
  bool with_probs_;
  std::vector<int64_t> probs_base_;  // [n_moe_layers] offset of the layer in a token's probs
  policy::RoutingTraceBuilder builder_;
  int64_t n_tokens_ = 0;

  // The current forward call, [n_tokens][n_moe_layers] rows.
  int32_t first_ = 0;
  int n_ = 0;
  std::vector<int32_t> next_tokens_;
  std::optional<policy::Phase> next_phase_;
  std::vector<int32_t> tokens_;  // [n] ids, or empty
  std::optional<policy::Phase> phase_;
  int32_t k_max_ = 0;              // experts a token selects (nominal k)
  std::vector<ExpertId> experts_;  // [n][n_moe_layers][k_max]
  std::vector<float> weights_;     // [n][n_moe_layers][k_max]
  std::vector<int32_t> count_;     // [n][n_moe_layers] experts reported, -1: none
  std::vector<float> probs_;       // [n][total experts] when with_probs
};

}  // namespace moescope
