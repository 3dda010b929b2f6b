#include "engine/policy/future_index.h"

#include "engine/common/error.h"

namespace moescope::policy {

FutureIndex::FutureIndex(std::shared_ptr<const AccessStream> stream, const MoeShape& shape)
    : stream_(std::move(stream)), shape_(&shape) {
  if (!stream_) fail("an oracle policy needs the recorded access stream");
  const int64_t n_keys = shape.total_experts();
  begin_.assign(size_t(n_keys) + 1, 0);
  for (const ExpertKey& k : stream_->accesses) {
    if (!shape.contains(k)) fail("the recorded access stream names an expert outside the model");
    ++begin_[shape.key_index(k) + 1];
  }
  for (int64_t i = 0; i < n_keys; ++i) begin_[i + 1] += begin_[i];
  cursor_.assign(begin_.begin(), begin_.end() - 1);
  positions_.resize(stream_->accesses.size());
  std::vector<int64_t> fill(cursor_);
  for (int64_t s = 0; s < stream_->size(); ++s)
    positions_[fill[shape.key_index(stream_->accesses[s])]++] = s;
}

void FutureIndex::check(ExpertKey key, int64_t seq) const {
  if (seq >= stream_->size())
    fail("the oracle's recorded future ends at access {}; the live stream went further",
         stream_->size());
  if (stream_->accesses[seq] != key)
    fail("the live access stream diverged from the oracle's recording at access {}", seq);
}

int64_t FutureIndex::next_use(ExpertKey key, int64_t now) {
  const int64_t i = shape_->key_index(key);
  int64_t& c = cursor_[i];
  const int64_t end = begin_[i + 1];
  while (c < end && positions_[c] < now) ++c;
  return c < end ? positions_[c] : kNever;
}

std::vector<int64_t> FutureIndex::counts() const {
  std::vector<int64_t> out(begin_.size() - 1);
  for (size_t i = 0; i + 1 < begin_.size(); ++i) out[i] = begin_[i + 1] - begin_[i];
  return out;
}

}  // namespace moescope::policy
