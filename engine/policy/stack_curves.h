#pragma once
// Hit count vs capacity for every capacity in one pass over an access stream: LRU through stack
// (reuse) distances (Mattson et al. 1970), and OPT (demand-paging MIN) through the OPT stack,
// which is also an inclusion stack when priorities are next-use times. Curves are per layer (a
// per-layer cache with c slots in every layer) and global (one pool of c slots).
//
// Both follow the simulator's step rule: a miss never evicts an expert its step has yet to
// access (it bypasses when nothing else can leave). So an access hits exactly when its expert
// was resident when the step began: LRU distances are taken against the recency order at the
// step's start, and the OPT stack inserts the accessed key below the leading run of keys the step
// has yet to access instead of at the top.
//
// Scale: every partition (each layer's and the global one) is walked in the same single pass over
// the stream, with memory O(experts) per partition; OPT adds one next-use position per access
// (4 bytes while the stream has fewer than 2^31 accesses). Time is O(accesses x log experts) for
// LRU and, for OPT, proportional to the stack depth scanned (a vectorised scan of a contiguous
// array of priorities); see docs/suitability.md, "Big traces".
#include <array>
#include <cstdint>
#include <vector>

#include "engine/policy/access_stream.h"
#include "engine/policy/moe_shape.h"

namespace moescope::policy {

struct HitCurve {
  // hits[phase][c]: hits among that phase's accesses with c slots, c = 0..n_keys.
  std::array<std::vector<int64_t>, 2> hits;
  std::array<int64_t, 2> accesses{};

  int64_t hits_at(size_t c) const { return hits[0][c] + hits[1][c]; }
  int64_t total_accesses() const { return accesses[0] + accesses[1]; }
  double hit_rate(size_t c) const {
    return total_accesses() ? double(hits_at(c)) / double(total_accesses()) : 0.0;
  }
};

struct CurveSet {
  std::vector<HitCurve> per_layer;  // [n_layers], capacities 0..n_experts[l]
  HitCurve global;                  // capacities 0..total experts
};

CurveSet lru_curves(const AccessStream& stream, const MoeShape& shape);
CurveSet opt_curves(const AccessStream& stream, const MoeShape& shape);

}  // namespace moescope::policy
