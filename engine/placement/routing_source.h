#pragma once
// The routing the placement analyses read, one token at a time, so that they make one pass over a
// trace of any length without copying it: for every token its request (data-parallel home), its
// step (the forward pass it ran in) and, per MoE layer, the experts it selected.
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "engine/common/ids.h"
#include "engine/placement/topology.h"
#include "engine/policy/routing_trace.h"

namespace moescope::placement {

struct TokenRoute {
  int64_t index = 0;  // position in the source
  RequestId request;
  int64_t step = 0;
  const int64_t* offsets = nullptr;  // [n_layers + 1] into base
  const ExpertId* base = nullptr;

  std::span<const ExpertId> experts(int32_t layer) const {
    return {base + offsets[layer], base + offsets[layer + 1]};
  }
};

// Tokens [begin, end).
struct TokenSpan {
  int64_t begin = 0;
  int64_t end = 0;
  int64_t size() const { return end - begin; }
};

class RoutingSource {
 public:
  virtual ~RoutingSource() = default;
  virtual int64_t n_tokens() const = 0;
  virtual const std::vector<int32_t>& n_experts() const = 0;  // [MoE layers]
  int32_t n_layers() const { return static_cast<int32_t>(n_experts().size()); }
  // Calls visit for every token of span in order. Steps are non-decreasing along the tokens.
  virtual void visit(TokenSpan span, const std::function<void(const TokenRoute&)>& visit) const = 0;
};

// A RoutingTrace as a source. requests: [n_tokens] recorded request ids, or empty: then every
// token is its own request (home devices round-robin by token). steps: [n_tokens] forward pass of
// each token (non-decreasing), or empty: every token its own step.
class TraceRoutingSource final : public RoutingSource {
 public:
  TraceRoutingSource(const policy::RoutingTrace& trace, std::vector<RequestId> requests = {},
                     std::vector<int64_t> steps = {});
  int64_t n_tokens() const override { return trace_.n_tokens(); }
  const std::vector<int32_t>& n_experts() const override { return trace_.shape.n_experts; }
  void visit(TokenSpan span, const std::function<void(const TokenRoute&)>& visit) const override;

 private:
  const policy::RoutingTrace& trace_;
  std::vector<RequestId> requests_;
  std::vector<int64_t> steps_;
};

// Steps from the first positions of forward calls (prefill chunks; decode tokens one each): the
// step of token t is the number of call starts <= t, minus one.
std::vector<int64_t> steps_from_calls(const std::vector<int32_t>& call_starts, int64_t n_tokens);

// The requests and steps a trace recorded for its tokens, as a TraceRoutingSource takes them.
// Requests: the recorded ids when the run holds two or more requests; a run of one sequence has no
// data-parallel home to speak of, so its tokens are spread round-robin (empty). Steps: the
// recorded ones when every token has one and they never decrease, else from the forward calls.
struct RecordedIds {
  std::vector<RequestId> requests;
  std::vector<int64_t> steps;
};
RecordedIds recorded_ids(const std::vector<int32_t>& token_requests,
                         const std::vector<int32_t>& token_steps,
                         const std::vector<int32_t>& call_starts, int64_t n_tokens);

}  // namespace moescope::placement
