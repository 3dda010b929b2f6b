#include "engine/model/inference_state.h"

#include <algorithm>

#include "engine/common/error.h"

namespace moescope {

InferenceState::InferenceState(KvLayout layout, int n_ctx)
    : layout_(std::move(layout)),
      n_ctx_(n_ctx),
      k_(layout_.k_width.size()),
      v_(layout_.v_width.size()) {}

void InferenceState::truncate(int n_past) {
  if (n_past < 0 || n_past > n_past_) {
    fail("cannot truncate a sequence of {} positions to {}", n_past_, n_past);
  }
  n_past_ = n_past;
}

void InferenceState::reserve(int64_t n_positions) {
  if (n_positions <= capacity_) return;
  // Grow geometrically (capped at n_ctx) so decoding token by token re-allocates rarely.
  const int64_t target = std::min<int64_t>(std::max(n_positions, capacity_ * 2), n_ctx_);
  const int64_t capacity = std::max(target, n_positions);
  for (size_t il = 0; il < k_.size(); ++il) {
    k_[il].resize(static_cast<size_t>(capacity * layout_.k_width[il]));
    v_[il].resize(static_cast<size_t>(capacity * layout_.v_width[il]));
  }
  capacity_ = capacity;
}

}  // namespace moescope
