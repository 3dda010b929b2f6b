#include "engine/offload/expert_layout.h"

#include <algorithm>

#include "engine/common/error.h"

namespace moescope::offload {

ExpertLayout::ExpertLayout(const gguf::GgufFile& file,
                           const std::vector<LayerExpertTensors>& layers, int32_t top_k)
    : file_(&file), moe_index_(layers.size(), -1) {
  for (size_t il = 0; il < layers.size(); ++il) {
    const LayerExpertTensors& t = layers[il];
    if (t.n_expert() <= 0) continue;
    moe_index_[il] = static_cast<int32_t>(tensors_.size());
    tensors_.push_back(t);
    model_layer_.push_back(static_cast<int32_t>(il));
    n_expert_.push_back(static_cast<int32_t>(t.n_expert()));
    packed_bytes_.push_back(t.packed_bytes());
  }
  if (tensors_.empty())
    fail("{}: the model has no routed experts to offload", file.path().string());
  max_packed_bytes_ = *std::max_element(packed_bytes_.begin(), packed_bytes_.end());
  min_packed_bytes_ = *std::min_element(packed_bytes_.begin(), packed_bytes_.end());

  shape_.n_experts = n_expert_;
  shape_.top_k.assign(tensors_.size(), top_k);
  shape_.expert_bytes = packed_bytes_;
  shape_.model_layer = model_layer_;
  shape_.validate();
}

int32_t ExpertLayout::moe_index(LayerId model_layer) const {
  if (model_layer.value < 0 || static_cast<size_t>(model_layer.value) >= moe_index_.size()) {
    return -1;
  }
  return moe_index_[model_layer.value];
}

uint64_t ExpertLayout::slice_file_offset(int32_t moe_layer, ExpertPart p, int32_t expert) const {
  const LayerExpertTensors& t = tensors_[moe_layer];
  return file_->tensor_file_offset(*t.part(p)) + static_cast<uint64_t>(expert) * t.slice_bytes(p);
}

std::vector<LayerRecord> ExpertLayout::records() const {
  std::vector<LayerRecord> out;
  for (int32_t m = 0; m < n_layers(); ++m) {
    LayerRecord r{model_layer_[m], n_expert_[m], packed_bytes_[m], {}};
    for (size_t i = 0; i < kExpertPartCount; ++i) {
      const gguf::TensorInfo* t = tensors_[m].parts[i];
      if (t == nullptr) continue;
      r.parts.push_back(PartRecord{static_cast<uint8_t>(i), static_cast<uint32_t>(t->type), t->ne,
                                   file_->tensor_file_offset(*t), t->name});
    }
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace moescope::offload
