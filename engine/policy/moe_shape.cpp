#include "engine/policy/moe_shape.h"

#include <algorithm>

#include "engine/common/error.h"

namespace moescope::policy {

namespace {
// Generous bounds that still keep every per-key table small: DeepSeek-V3 has 58 x 256 experts.
constexpr int32_t kMaxLayers = 4096;
constexpr int32_t kMaxBlocks = 65536;  // model blocks, dense ones included
constexpr int32_t kMaxExpertsPerLayer = 65536;
constexpr int64_t kMaxKeys = int64_t{1} << 24;
}  // namespace

int64_t MoeShape::total_experts() const {
  return key_base_.empty() ? 0 : key_base_.back();
}

uint64_t MoeShape::total_bytes() const {
  uint64_t sum = 0;
  for (int32_t l = 0; l < n_layers(); ++l) sum += expert_bytes[l] * uint64_t(n_experts[l]);
  return sum;
}

std::optional<MoeLayerId> MoeShape::moe_layer(LayerId block) const {
  // validate()'s table, checked against model_layer: a shape whose block indices were changed
  // after validate() is searched instead of answered wrongly.
  const int32_t b = block.value;
  if (b >= 0 && size_t(b) < moe_layer_.size()) {
    const int32_t l = moe_layer_[size_t(b)];
    if (l >= 0 && size_t(l) < model_layer.size() && model_layer[size_t(l)] == b)
      return MoeLayerId(l);
  }
  const auto it = std::find(model_layer.begin(), model_layer.end(), b);
  if (it == model_layer.end()) return std::nullopt;
  return MoeLayerId(static_cast<int32_t>(it - model_layer.begin()));
}

ExpertKey MoeShape::key_at(int64_t index) const {
  auto it = std::upper_bound(key_base_.begin(), key_base_.end(), index);
  int32_t layer = static_cast<int32_t>(it - key_base_.begin()) - 1;
  return {MoeLayerId(layer), ExpertId(static_cast<int32_t>(index - key_base_[layer]))};
}

void MoeShape::validate() {
  const size_t n = n_experts.size();
  if (n == 0) fail("the MoE shape has no layers");
  if (n > size_t(kMaxLayers)) fail("the MoE shape has {} layers, more than {}", n, kMaxLayers);
  if (top_k.size() != n || expert_bytes.size() != n)
    fail("the MoE shape lists {} layers but {} top-k values and {} expert sizes", n, top_k.size(),
         expert_bytes.size());
  if (model_layer.empty()) {
    model_layer.resize(n);
    for (size_t l = 0; l < n; ++l) model_layer[l] = static_cast<int32_t>(l);
  }
  if (model_layer.size() != n)
    fail("the MoE shape lists {} layers but {} model layer indices", n, model_layer.size());
  moe_layer_.clear();
  for (size_t l = 0; l < n; ++l) {
    const int32_t b = model_layer[l];
    if (b < 0 || b >= kMaxBlocks)
      fail("MoE layer {} is model block {} (expected 0..{})", l, b, kMaxBlocks - 1);
    if (size_t(b) >= moe_layer_.size()) moe_layer_.resize(size_t(b) + 1, -1);
    if (moe_layer_[size_t(b)] >= 0)
      fail("MoE layers {} and {} are both model block {}", moe_layer_[size_t(b)], l, b);
    moe_layer_[size_t(b)] = static_cast<int32_t>(l);
  }
  key_base_.assign(n + 1, 0);
  for (size_t l = 0; l < n; ++l) {
    if (n_experts[l] < 1 || n_experts[l] > kMaxExpertsPerLayer)
      fail("MoE layer {} has {} experts (expected 1..{})", l, n_experts[l], kMaxExpertsPerLayer);
    if (top_k[l] < 1 || top_k[l] > n_experts[l])
      fail("MoE layer {} selects {} of {} experts", l, top_k[l], n_experts[l]);
    if (expert_bytes[l] == 0 || expert_bytes[l] > (uint64_t{1} << 40))
      fail("MoE layer {} has an expert size of {} bytes", l, expert_bytes[l]);
    key_base_[l + 1] = key_base_[l] + n_experts[l];
  }
  if (key_base_[n] > kMaxKeys)
    fail("the MoE shape has {} experts, more than {}", key_base_[n], kMaxKeys);
}

MoeShape MoeShape::uniform(int32_t n_layers, int32_t n_experts, int32_t top_k,
                           uint64_t expert_bytes) {
  MoeShape s;
  s.n_experts.assign(std::max(n_layers, 0), n_experts);
  s.top_k.assign(std::max(n_layers, 0), top_k);
  s.expert_bytes.assign(std::max(n_layers, 0), expert_bytes);
  s.validate();
  return s;
}

}  // namespace moescope::policy
