#pragma once
// The access stream a cache sees. Decode runs layer by layer for one token, so each (token, layer)
// is one step that accesses that token's selected experts in top-k order. Prefill runs a chunk of
// tokens through a layer at once, so one step per (chunk, layer) accesses the distinct experts of
// the chunk (in order of first use): each is loaded once and serves every token routed to it.
// Logical time is the index of an access in this stream.
#include <cstdint>
#include <vector>

#include "engine/common/ids.h"
#include "engine/policy/routing_trace.h"

namespace moescope::policy {

class StepBuilder;

struct StreamOptions {
  // Prefill tokens per step: 0 = each contiguous prefill run is one chunk, 1 = token by token.
  int32_t prefill_chunk = 0;
};

struct AccessStep {
  TokenPos first_token;
  int32_t n_tokens = 1;
  MoeLayerId layer;
  Phase phase = Phase::kDecode;
  int64_t begin = 0;  // accesses [begin, end) of the stream
  int64_t end = 0;
};

struct AccessStream {
  std::vector<AccessStep> steps;
  std::vector<ExpertKey> accesses;  // [n_accesses]

  int64_t size() const { return static_cast<int64_t>(accesses.size()); }

  static AccessStream build(const RoutingTrace& trace, StreamOptions options = {});
  // Appends the steps of tokens [first, end) — one chunk, all of one phase — at every layer, as
  // `builder` makes them (access_step.h). build() is made of it; so is a stream that follows a
  // recording's forward calls (storage/trace_replay).
  void append_chunk(const RoutingTrace& trace, int64_t first, int64_t end, StepBuilder& builder);
};

}  // namespace moescope::policy
