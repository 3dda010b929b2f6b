#pragma once
// A batch of new run data on its way from the engine thread to the GUI: tokens that appeared and
// the routing of tokens whose forward pass ended, since the previous batch. The GUI takes one
// batch per refresh (at most 30 a second), however fast tokens arrive.
#include <QString>

#include <cstdint>
#include <vector>

#include "engine/common/ids.h"
#include "engine/policy/routing_trace.h"

namespace moescope::views {

struct TokenInfo {
  int32_t id = -1;
  QString text;            // what the token makes visible (may be empty: part of a character)
  bool generated = false;  // false: a prompt token
  bool special = false;    // a control token (BOS, EOS, ...), shown by its name
  double elapsed_ms = 0;   // since the run began: when the token was sampled (prompt: 0)
};

struct RunDelta {
  std::vector<TokenInfo> tokens;  // appended after the tokens already known
  QString tail_text;              // held-back text that belongs to the last token

  // Routing of `n_routed()` tokens, continuing after the last routed one. Per (token, MoE layer)
  // in token-major order: k[i] experts in `experts` / `weights`, and the router entropy.
  std::vector<policy::Phase> phase;  // [n_routed]
  std::vector<int64_t> stall_ns;     // [n_routed] measured stall of the token's forward, or -1
  std::vector<int32_t> k;            // [n_routed * n_layers]
  std::vector<ExpertId> experts;     // [sum of k]
  std::vector<float> weights;        // [sum of k]
  std::vector<float> entropy_bits;   // [n_routed * n_layers]

  size_t n_routed() const { return phase.size(); }
  bool empty() const { return tokens.empty() && tail_text.isEmpty() && phase.empty(); }
};

}  // namespace moescope::views
