#pragma once
// A recorded (or synthetic) routing stream: for every token and MoE layer, the experts the router
// selected (top-k order) with their mixing weights, and optionally the full router probabilities.
// The simulator, the one-pass curves, the statistics and the fitted prefetchers all read this.
#include <cstdint>
#include <span>
#include <vector>

#include "engine/common/ids.h"
#include "engine/policy/moe_shape.h"

namespace moescope::policy {

enum class Phase : uint8_t { kPrefill = 0, kDecode = 1 };
const char* phase_name(Phase phase);

// Which tokens a statistic looks at.
enum class PhaseFilter : uint8_t { kAll, kPrefill, kDecode };
inline bool phase_selected(PhaseFilter f, Phase p) {
  return f == PhaseFilter::kAll || (f == PhaseFilter::kPrefill) == (p == Phase::kPrefill);
}

// Router output of one token at one MoE layer (views into a trace or into engine buffers).
struct TokenLayerRouting {
  std::span<const ExpertId> experts;  // [k] selected, highest weight first
  std::span<const float> weights;     // [k] mixing weights
  std::span<const float> probs;       // [n_experts] router probabilities, or empty
};

struct RoutingTrace {
  MoeShape shape;
  std::vector<Phase> phase;         // [n_tokens]
  std::vector<int32_t> token_id;    // [n_tokens] vocabulary id, or empty when unknown
  std::vector<int64_t> offsets;     // [n_tokens * n_layers + 1] into selected and weights
  std::vector<ExpertId> selected;   // [sum of k(t, l)] in (token, layer, rank) order
  std::vector<float> weights;       // [sum of k(t, l)]
  std::vector<float> probs;         // [n_tokens][shape.total_experts()] or empty
  std::vector<int64_t> compute_ns;  // [n_tokens][n_layers] measured layer compute, or empty

  int64_t n_tokens() const { return static_cast<int64_t>(phase.size()); }
  int32_t n_layers() const { return shape.n_layers(); }
  bool has_probs() const { return !probs.empty(); }

  std::span<const ExpertId> experts(TokenPos t, MoeLayerId l) const {
    const size_t i = size_t(t.value) * size_t(n_layers()) + size_t(l.value);
    return {selected.data() + offsets[i], selected.data() + offsets[i + 1]};
  }
  TokenLayerRouting routing(TokenPos t, MoeLayerId l) const;

  // Full consistency check for traces read from disk: sizes, ids in range, no repeated expert in
  // one (token, layer), finite weights and probabilities. Throws moescope::Error.
  // Also indexes the shape: call it after filling the fields by hand.
  void validate();
};

// Appends tokens layer by layer; checks each call.
class RoutingTraceBuilder {
 public:
  RoutingTraceBuilder(MoeShape shape, bool with_probs);

  void begin_token(Phase phase, int32_t token_id = -1);
  // Routing of the next layer of the current token. probs must be given iff with_probs.
  void add_layer(std::span<const ExpertId> experts, std::span<const float> weights,
                 std::span<const float> probs = {});
  RoutingTrace finish();

 private:
  RoutingTrace trace_;
  bool with_probs_;
  bool has_token_ids_ = true;
  int32_t next_layer_ = 0;
};

}  // namespace moescope::policy
