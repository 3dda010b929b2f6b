#include "engine/policy/access_stream.h"

#include <algorithm>

#include "engine/common/error.h"

namespace moescope::policy {

AccessStream AccessStream::build(const RoutingTrace& trace, StreamOptions options) {
  if (options.prefill_chunk < 0) fail("the prefill chunk must be 0 (whole run) or positive");
  AccessStream s;
  const int64_t n = trace.n_tokens();
  const int32_t L = trace.n_layers();
  s.accesses.reserve(trace.selected.size());
  std::vector<uint8_t> seen;  // [n_experts] of the current layer, for a chunk's distinct experts
  int64_t t = 0;
  while (t < n) {
    if (trace.phase[t] == Phase::kDecode) {
      for (int32_t l = 0; l < L; ++l) {
        AccessStep step{TokenPos(int32_t(t)), 1, LayerId(l), Phase::kDecode, s.size(), 0};
        for (ExpertId e : trace.experts(TokenPos(int32_t(t)), LayerId(l)))
          s.accesses.push_back({LayerId(l), e});
        step.end = s.size();
        s.steps.push_back(step);
      }
      ++t;
      continue;
    }
    int64_t chunk_end = t;
    while (chunk_end < n && trace.phase[chunk_end] == Phase::kPrefill &&
           (options.prefill_chunk == 0 || chunk_end - t < options.prefill_chunk))
      ++chunk_end;
    for (int32_t l = 0; l < L; ++l) {
      AccessStep step{
          TokenPos(int32_t(t)), int32_t(chunk_end - t), LayerId(l), Phase::kPrefill, s.size(), 0};
      seen.assign(size_t(trace.shape.n_experts[l]), 0);
      for (int64_t u = t; u < chunk_end; ++u)
        for (ExpertId e : trace.experts(TokenPos(int32_t(u)), LayerId(l)))
          if (!seen[e.value]) {
            seen[e.value] = 1;
            s.accesses.push_back({LayerId(l), e});
          }
      step.end = s.size();
      s.steps.push_back(step);
    }
    t = chunk_end;
  }
  return s;
}

}  // namespace moescope::policy
