#pragma once
// What the oracles know: the recorded access stream, indexed by key. Oracles run in replay, or as
// shadows of a live run fed from a prior identical run; they check at every access that the live
// stream still matches the recording.
#include <cstdint>
#include <limits>
#include <memory>
#include <vector>

#include "engine/policy/access_stream.h"
#include "engine/policy/moe_shape.h"

namespace moescope::policy {

class FutureIndex {
 public:
  static constexpr int64_t kNever = std::numeric_limits<int64_t>::max();

  FutureIndex(std::shared_ptr<const AccessStream> stream, const MoeShape& shape);

  // Throws moescope::Error when access seq of the live stream is not the recorded one.
  void check(ExpertKey key, int64_t seq) const;
  // First stream position >= now at which key is accessed, or kNever. now must not decrease
  // between calls for the same key.
  int64_t next_use(ExpertKey key, int64_t now);
  // Accesses of each key over the whole recording.
  std::vector<int64_t> counts() const;

  const AccessStream& stream() const { return *stream_; }

 private:
  std::shared_ptr<const AccessStream> stream_;
  const MoeShape* shape_;
  std::vector<int64_t> begin_;      // [total experts + 1] CSR offsets into positions_
  std::vector<int64_t> positions_;  // [n_accesses] stream positions grouped by key
  std::vector<int64_t> cursor_;     // [total experts] next candidate in positions_
};

}  // namespace moescope::policy
