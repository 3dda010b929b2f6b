#pragma once
// A workload for the batch engine: prompts that arrive all at once or as a Poisson process
// (seeded), run to completion, and the numbers a serving study reads off it: throughput, TTFT and
// TPOT percentiles, distinct experts per step and layer.
#include <atomic>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "engine/batching/batch_engine.h"

namespace moescope::batching {

struct Arrival {
  double rate = 0;  // requests per second; 0 = all at once
  uint64_t seed = 42;
};

// "all" or "poisson:RATE" (RATE > 0 requests per second). Throws moescope::Error naming the flag.
Arrival parse_arrival(std::string_view text, uint64_t seed);

// Arrival times in seconds from the start, non-decreasing: all 0, or exponential gaps of mean
// 1/rate drawn from the seed.
std::vector<double> arrival_times(const Arrival& arrival, size_t n);

// Submits prompt i when its arrival time has come (sleeping while nothing runs), steps until all
// finish or `cancel` is set. Returns the wall time in ms.
double run_workload(BatchEngine& engine, std::span<const std::vector<int32_t>> prompts,
                    std::span<const double> arrival_s, const GenerationOptions& options,
                    const std::atomic<bool>* cancel = nullptr);
// The same with each request's own options (options[i] for prompt i).
double run_workload(BatchEngine& engine, std::span<const std::vector<int32_t>> prompts,
                    std::span<const double> arrival_s, std::span<const GenerationOptions> options,
                    const std::atomic<bool>* cancel = nullptr);

// The p-th percentile (0..100) by linear interpolation between closest ranks; 0 for no values.
double percentile(std::vector<double> values, double p);

struct WorkloadSummary {
  int64_t generated_tokens = 0;
  int64_t decode_rows = 0;  // rows forwarded as decode tokens
  double decode_ms = 0;     // wall time of steps without prompt rows
  int64_t decode_steps = 0;
  double tokens_per_s = 0;         // generated tokens over the whole run
  double decode_tokens_per_s = 0;  // decode rows over decode-only steps' time
  double ttft_p50 = 0, ttft_p95 = 0, tpot_p50 = 0, tpot_p95 = 0;
  // Per model layer: mean over steps of the distinct experts run, and of the straggler factor
  // (the most tokens an expert got over the mean over all experts).
  std::vector<double> mean_distinct_experts;
  std::vector<double> mean_straggler;
};

WorkloadSummary summarize(std::span<const RequestResult> requests, std::span<const StepStats> steps,
                          double total_ms, int64_t n_expert);

}  // namespace moescope::batching
