#include "engine/policy/access_stream.h"

#include <algorithm>

#include "engine/common/error.h"
#include "engine/policy/access_step.h"

namespace moescope::policy {

void AccessStream::append_chunk(const RoutingTrace& trace, int64_t first, int64_t end,
                                StepBuilder& builder) {
  const TokenPos t{int32_t(first)};
  const Phase phase = trace.phase[size_t(first)];
  for (int32_t l = 0; l < trace.n_layers(); ++l) {
    const StepInput& in = builder.trace_step(trace, t, int32_t(end - first), MoeLayerId(l), phase);
    AccessStep step{t, in.n_tokens, MoeLayerId(l), phase, size(), 0};
    for (ExpertId e : in.experts) accesses.push_back({MoeLayerId(l), e});
    step.end = size();
    steps.push_back(step);
  }
}

AccessStream AccessStream::build(const RoutingTrace& trace, StreamOptions options) {
  if (options.prefill_chunk < 0) fail("the prefill chunk must be 0 (whole run) or positive");
  AccessStream s;
  const int64_t n = trace.n_tokens();
  s.accesses.reserve(trace.selected.size());
  StepBuilder builder;
  int64_t t = 0;
  while (t < n) {
    int64_t end = t + 1;
    if (trace.phase[size_t(t)] == Phase::kPrefill) {
      while (end < n && trace.phase[size_t(end)] == Phase::kPrefill &&
             (options.prefill_chunk == 0 || end - t < options.prefill_chunk))
        ++end;
    }
    s.append_chunk(trace, t, end, builder);
    t = end;
  }
  return s;
}

}  // namespace moescope::policy
