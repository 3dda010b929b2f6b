#pragma once
// Counts one step's routing into a BatchStep: per MoE layer, how many tokens each expert got,
// hence the distinct experts, the most tokens of one expert (the straggler) and the token-expert
// pairs. The live run feeds it the routing events of each forward call (batch_recorder.h), a
// recorded run the routing of each step's positions (batch_trace_loading.h): one counting rule
// for both.
#include <cstdint>
#include <span>
#include <vector>

#include "engine/common/ids.h"
#include "engine/policy/moe_shape.h"
#include "views/batch/batch_run.h"

namespace moescope::views {

class StepAccumulator {
 public:
  explicit StepAccumulator(policy::MoeShape shape);

  // Starts step `step` over `rows` forwarded tokens (forgets an unfinished one).
  void begin(int64_t step, int rows);
  // One token's experts at MoE layer `layer` (out-of-range experts are ignored).
  void add(int layer, std::span<const ExpertId> experts);
  // The step's counts; the accumulator is empty again.
  BatchStep end();

 private:
  policy::MoeShape shape_;
  std::vector<int64_t> base_;    // [n_layers + 1] first key of each layer
  std::vector<int32_t> counts_;  // [total experts] tokens per expert this step
  BatchStep step_;
};

}  // namespace moescope::views
