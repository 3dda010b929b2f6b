#pragma once
// One run as the views see it: the tokens, every token's routing at every MoE layer, measured
// stalls, and the cache analysis of the routing so far. A live run fills it batch by batch
// (RunDelta); a recorded trace fills it the same way, so every view shows both alike.
//
// Token t of the run is position t of the sequence: prompt tokens first, then generated ones. A
// token's routing is the router's decision when the token is the model's input, so it becomes
// known one forward pass after a generated token is sampled (the last token of a run may have
// none): routed_count() <= token_count().
#include <QString>

#include <map>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "engine/policy/cache_analysis.h"
#include "engine/policy/moe_shape.h"
#include "engine/policy/routing_trace.h"
#include "views/session/run_delta.h"

namespace moescope::views {

struct AnalysisResult;
// (token, MoE layer) -> the experts next-gate speculation predicted for it.
using GatePredictions = policy::GatePredictions;

class RunData {
 public:
  // Forgets everything and starts a run over a model of this shape (MoE layers only).
  void reset(const policy::MoeShape& shape);
  void apply(const RunDelta& delta);

  const policy::MoeShape& shape() const { return trace_.shape; }
  int n_layers() const { return trace_.n_layers(); }
  int n_experts(int layer) const { return trace_.shape.n_experts[size_t(layer)]; }
  int max_experts() const { return max_experts_; }

  int token_count() const { return int(tokens_.size()); }
  int routed_count() const { return int(trace_.n_tokens()); }
  int prompt_count() const { return prompt_count_; }
  const TokenInfo& token(int t) const { return tokens_[size_t(t)]; }
  bool routed(int t) const { return t >= 0 && t < routed_count(); }

  // Routing of a routed token at MoE layer l.
  policy::Phase phase(int t) const { return trace_.phase[size_t(t)]; }
  std::span<const ExpertId> experts(int t, int l) const;
  std::span<const float> weights(int t, int l) const;
  float entropy_bits(int t, int l) const { return entropy_[index(t, l)]; }
  // True when (some) entropies are of the normalised top-k weights, not the full distribution.
  bool entropy_from_topk() const { return entropy_from_topk_; }
  // The largest entropy the run's entropies can have: log2 of the experts (or of the top-k).
  double max_entropy_bits() const;
  int64_t stall_ns(int t) const { return stall_ns_[size_t(t)]; }
  // Index of (t, l, rank 0) in the flat selection arrays (AnalysisResult::outcome uses it too).
  int64_t selection_offset(int t, int l) const { return trace_.offsets[index(t, l)]; }
  // The rank of expert e in token t's selection at layer l, or -1.
  int rank_of(int t, int l, int e) const;

  // Activations of (l, e) over all routed tokens.
  int64_t activations(int l, int e) const { return activations_[key(l, e)]; }
  int64_t max_activations() const { return max_activations_; }
  int64_t total_stall_ns() const { return total_stall_ns_; }

  // The routing as a trace for the policy engine (a copy: the analysis runs on another thread).
  // The cache analysis replays it with the simulator's timing model, as the live store's counters
  // assume, so it carries no compute times.
  policy::RoutingTrace routing_trace() const { return trace_; }
  // The same with compute_ns: each forward call's measured layer compute on its first token
  // (views/session/run_recorder.h; 0 where unknown), as a recorded trace books it.
  policy::RoutingTrace routing_trace_with_compute() const;
  // True when some forward call of the run has a measured layer compute.
  bool has_compute() const { return has_compute_; }

  // The cache analysis of the first analysis()->n_tokens routed tokens, or null.
  const std::shared_ptr<const AnalysisResult>& analysis() const { return analysis_; }
  void set_analysis(std::shared_ptr<const AnalysisResult> analysis) {
    analysis_ = std::move(analysis);
  }

  // Next-gate predictions the engine made during the run (empty unless the run used next-gate).
  const GatePredictions& gate_predictions() const { return gate_predictions_; }

  size_t key(int l, int e) const { return size_t(key_base_[size_t(l)] + e); }

 private:
  size_t index(int t, int l) const { return size_t(t) * size_t(n_layers()) + size_t(l); }

  policy::RoutingTrace trace_;  // phase, offsets, selected, weights of routed tokens
  std::vector<TokenInfo> tokens_;
  std::vector<float> entropy_;       // [routed][n_layers]
  std::vector<int64_t> stall_ns_;    // [routed]
  std::vector<int64_t> compute_ns_;  // [routed][n_layers] measured layer compute, 0: unknown
  bool has_compute_ = false;
  std::vector<int64_t> key_base_;     // [n_layers + 1]
  std::vector<int64_t> activations_;  // [total experts]
  int64_t max_activations_ = 0;
  int64_t total_stall_ns_ = 0;
  int max_experts_ = 0;
  int max_top_k_ = 0;
  bool entropy_from_topk_ = false;
  int prompt_count_ = 0;
  std::shared_ptr<const AnalysisResult> analysis_;
  GatePredictions gate_predictions_;
};

}  // namespace moescope::views
