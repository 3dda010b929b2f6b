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

// What a control token is, for its badge's tooltip.
enum class SpecialKind : uint8_t {
  kNone,
  kBos,      // beginning of sequence
  kEos,      // end of sequence
  kEog,      // another end-of-generation token (end of turn, end of message, ...)
  kUnknown,  // the unknown-token placeholder
  kControl,  // any other control token
};

struct TokenInfo {
  int32_t id = -1;
  QString text;            // what the token makes visible (may be empty: part of a character)
  bool generated = false;  // false: a prompt token
  bool special = false;    // a control token (BOS, EOS, ...), shown by its name
  SpecialKind special_kind = SpecialKind::kNone;
  double elapsed_ms = 0;  // since the run began: when the token was sampled (prompt: 0)
};

// What next-gate speculation predicted for a (token, MoE layer) before that layer ran: the
// engine applies the layer's router to an earlier layer's hidden state (engine/model/
// router_probe.h). Only the engine can compute it, so a run keeps it for the analysis' replay.
struct GatePrediction {
  int32_t token = 0;
  MoeLayerId layer;  // the target MoE layer
  std::vector<ExpertId> experts;
};

struct RunDelta {
  std::vector<TokenInfo> tokens;  // appended after the tokens already known
  QString tail_text;              // held-back text that belongs to the last token

  // Routing of `n_routed()` tokens, continuing after the last routed one. Per (token, MoE layer)
  // in token-major order: k[i] experts in `experts` / `weights`, and the router entropy.
  std::vector<policy::Phase> phase;  // [n_routed]
  std::vector<int64_t> stall_ns;     // [n_routed] measured stall of the token's forward, or -1
  std::vector<int64_t> compute_ns;   // [n_routed * n_layers] measured layer compute, or empty
  std::vector<int32_t> k;            // [n_routed * n_layers]
  std::vector<ExpertId> experts;     // [sum of k]
  std::vector<float> weights;        // [sum of k]
  std::vector<float> entropy_bits;   // [n_routed * n_layers]
  // The entropies come from the normalised top-k weights (router_entropy.h), not the full router
  // distribution: the logits were not recorded.
  bool entropy_from_topk = false;
  std::vector<GatePrediction> gate_predictions;

  size_t n_routed() const { return phase.size(); }
  bool empty() const {
    return tokens.empty() && tail_text.isEmpty() && phase.empty() && gate_predictions.empty();
  }
};

}  // namespace moescope::views
