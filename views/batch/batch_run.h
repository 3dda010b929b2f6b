#pragma once
// A batched run as the workload views see it: its requests (prompt, generated text, state,
// TTFT/TPOT) and its steps (per forward call and MoE layer: distinct experts, the most tokens one
// expert got, token-expert pairs; bytes the cache moved). A live run (batch_job.h) and a recorded
// one (batch_trace_loading.h) fill it alike, so the request list and the step timeline show both
// the same way.
#include <QString>

#include <cstdint>
#include <vector>

#include "engine/policy/moe_shape.h"

namespace moescope::views {

enum class RequestState : uint8_t {
  kWaiting,   // submitted (or not arrived yet), no token sampled
  kRunning,   // tokens are being sampled
  kFinished,  // stopped by its own rule (length, end of generation, stop string, context)
  kStopped,   // the run was cancelled before it finished
};

struct BatchRequest {
  int64_t id = 0;
  QString prompt;     // the text as submitted
  QString generated;  // the generated text so far
  RequestState state = RequestState::kWaiting;
  QString stop_reason;  // why it finished (engine/model/generator.h stop_reason_name)
  int prompt_tokens = 0;
  int generated_tokens = 0;  // sampled tokens, an end-of-generation token included
  double ttft_ms = -1;       // arrival to first token; -1: not known (yet)
  double tpot_ms = -1;       // per output token after the first; -1: not known (yet)
};

// One forward call of the batched engine.
struct BatchStep {
  int64_t step = 0;
  int rows = 0;                     // tokens forwarded (prompt chunks and decode tokens)
  int requests = -1;                // requests in the step; -1: not known
  double ms = -1;                   // wall time; -1: not known
  int64_t bytes = -1;               // bytes the expert cache loaded for the step; -1: no cache
  std::vector<int32_t> distinct;    // [MoE layers] experts the step ran
  std::vector<int32_t> max_tokens;  // [MoE layers] the most tokens any one expert got
  std::vector<int32_t> routings;    // [MoE layers] token-expert pairs

  // max / mean tokens per expert over the layer's n_experts experts (how much the slowest expert
  // sets the layer's time); 0 for a layer without routings.
  double straggler(int layer, int n_experts) const;
  double mean_distinct() const;  // over the MoE layers
};

// What the scheduler comparison reads off a run.
struct BatchSummary {
  int64_t steps = 0;
  double mean_distinct = 0;   // distinct experts per (step, MoE layer)
  double mean_straggler = 0;  // straggler factor per (step, MoE layer) with routings
  int64_t bytes = -1;         // total bytes loaded; -1: no cache
  int64_t generated_tokens = 0;
  double tokens_per_s = 0;  // generated tokens over the run's wall time (0: not known)
  double ttft_p95_ms = -1;
};

struct BatchRun {
  QString scheduler;  // "fifo", "expert-aware"
  policy::MoeShape shape;
  std::vector<BatchRequest> requests;  // by id order
  std::vector<BatchStep> steps;
  double total_ms = 0;  // wall time of the whole run; 0: not known
  bool complete = false;

  BatchSummary summary() const;
};

}  // namespace moescope::views
