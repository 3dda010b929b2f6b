#include "views/batch/batch_run.h"

#include "engine/batching/workload.h"

namespace moescope::views {

double BatchStep::straggler(int layer, int n_experts) const {
  const int32_t pairs = routings[size_t(layer)];
  if (pairs <= 0 || n_experts <= 0) return 0;
  return double(max_tokens[size_t(layer)]) / (double(pairs) / double(n_experts));
}

double BatchStep::mean_distinct() const {
  if (distinct.empty()) return 0;
  double sum = 0;
  for (int32_t d : distinct) sum += d;
  return sum / double(distinct.size());
}

BatchSummary BatchRun::summary() const {
  BatchSummary s;
  s.steps = int64_t(steps.size());
  double distinct = 0, straggler = 0;
  int64_t cells = 0, routed_cells = 0;
  for (const BatchStep& step : steps) {
    if (step.bytes >= 0) s.bytes = (s.bytes < 0 ? 0 : s.bytes) + step.bytes;
    for (size_t l = 0; l < step.distinct.size(); ++l) {
      distinct += step.distinct[l];
      ++cells;
      if (step.routings[l] > 0) {
        straggler += step.straggler(int(l), shape.n_experts[l]);
        ++routed_cells;
      }
    }
  }
  s.mean_distinct = cells > 0 ? distinct / double(cells) : 0;
  s.mean_straggler = routed_cells > 0 ? straggler / double(routed_cells) : 0;
  std::vector<double> ttft;
  for (const BatchRequest& r : requests) {
    s.generated_tokens += r.generated_tokens;
    if (r.ttft_ms >= 0) ttft.push_back(r.ttft_ms);
  }
  if (!ttft.empty()) s.ttft_p95_ms = batching::percentile(ttft, 95);
  if (total_ms > 0) s.tokens_per_s = double(s.generated_tokens) / (total_ms / 1000.0);
  return s;
}

}  // namespace moescope::views
