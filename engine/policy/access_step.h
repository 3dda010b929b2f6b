#pragma once
// One step of the access stream, spelled in one place. A step is one MoE layer run for a chunk of
// tokens (one decode token, or a prefill chunk): it accesses the distinct experts its tokens were
// routed to, in order of first use — for one token, its top-k order. The access stream
// (access_stream.h), the live expert store (engine/offload) and the trace writer's simulated
// policies (storage/trace_sink) all build their steps here, so they feed a CacheSimulator the same
// steps for the same routing.
#include <cstdint>
#include <span>
#include <vector>

#include "engine/policy/simulator.h"

namespace moescope::policy {

class StepBuilder {
 public:
  // The step of the tokens [first_token, first_token + routing.size()) at `layer`, whose routing
  // at that layer is `routing` (one entry per token); the layer has `n_experts` experts. The
  // returned step points into this builder (its experts) and into `routing`: it is valid until
  // the next make_step. Throws moescope::Error for an expert outside the layer.
  const StepInput& make_step(TokenPos first_token, MoeLayerId layer, Phase phase,
                             std::span<const TokenLayerRouting> routing, int32_t n_experts,
                             int64_t compute_ns = -1);
  // The same for tokens [first_token, first_token + n_tokens) of a trace: their routing at
  // `layer` is the trace's.
  const StepInput& trace_step(const RoutingTrace& trace, TokenPos first_token, int32_t n_tokens,
                              MoeLayerId layer, Phase phase, int64_t compute_ns = -1);

 private:
  std::vector<uint8_t> seen_;  // [n_experts] all zero between calls
  std::vector<ExpertId> experts_;
  std::vector<TokenLayerRouting> routing_;  // trace_step's
  StepInput step_;
};

}  // namespace moescope::policy
