#pragma once
// The big-trace harnesses' routing: the arguments TOKENS [EXPERTS=64] [LAYERS=32]
// [TOP_K=8] read into a synthetic bursty trace (Zipf with hot sets, inter-layer affinity).
#include <cstdint>
#include <cstdlib>

#include "engine/policy/synthetic_trace.h"

namespace moescope::bench {

struct BigTraceShape {
  int64_t tokens = 0;
  int32_t experts = 64, layers = 32, top_k = 8;

  // From argv[1..4]; argv[1] (the tokens) must be there.
  static BigTraceShape from_args(int argc, char** argv) {
    BigTraceShape s;
    s.tokens = std::atoll(argv[1]);
    if (argc > 2) s.experts = std::atoi(argv[2]);
    if (argc > 3) s.layers = std::atoi(argv[3]);
    if (argc > 4) s.top_k = std::atoi(argv[4]);
    return s;
  }
};

inline policy::RoutingTrace bursty_trace(const BigTraceShape& s, int64_t n_prefill) {
  return policy::synthetic_trace({.kind = policy::SyntheticSpec::Kind::kBursty,
                                  .n_layers = s.layers,
                                  .n_experts = s.experts,
                                  .top_k = s.top_k,
                                  .n_tokens = s.tokens,
                                  .n_prefill = n_prefill,
                                  .seed = 7,
                                  .zipf_s = 0.8,
                                  .burst_len = 32,
                                  .affinity = 0.3});
}

}  // namespace moescope::bench
