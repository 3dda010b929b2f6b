#include "engine/offload/expert_layout.h"

#include <algorithm>

#include "engine/common/error.h"

namespace moescope::offload {

ExpertLayout::ExpertLayout(const gguf::GgufFile& file,
                           const std::vector<LayerExpertTensors>& layers, int32_t top_k)
    : file_(&file), n_model_layers_(static_cast<int32_t>(layers.size())) {
  for (size_t il = 0; il < layers.size(); ++il) {
    const LayerExpertTensors& t = layers[il];
    if (t.n_expert() <= 0) continue;
    tensors_.push_back(t);
    shape_.model_layer.push_back(static_cast<int32_t>(il));
    shape_.n_experts.push_back(static_cast<int32_t>(t.n_expert()));
    shape_.expert_bytes.push_back(t.packed_bytes());
  }
  if (tensors_.empty())
    fail("{}: the model has no routed experts to offload", file.path().string());
  const std::vector<uint64_t>& bytes = shape_.expert_bytes;
  max_packed_bytes_ = *std::max_element(bytes.begin(), bytes.end());
  min_packed_bytes_ = *std::min_element(bytes.begin(), bytes.end());

  shape_.top_k.assign(tensors_.size(), top_k);
  shape_.validate();
}

uint64_t ExpertLayout::slice_file_offset(MoeLayerId l, ExpertPart p, int32_t expert) const {
  const LayerExpertTensors& t = tensors_[size_t(l.value)];
  return file_->tensor_file_offset(*t.part(p)) + static_cast<uint64_t>(expert) * t.slice_bytes(p);
}

std::vector<LayerRecord> ExpertLayout::records() const {
  std::vector<LayerRecord> out;
  for (int32_t m = 0; m < n_layers(); ++m) {
    const MoeLayerId l(m);
    LayerRecord r{block(l).value, n_expert(l), packed_bytes(l), {}};
    for (size_t i = 0; i < kExpertPartCount; ++i) {
      const gguf::TensorInfo* t = tensors_[size_t(m)].parts[i];
      if (t == nullptr) continue;
      r.parts.push_back(PartRecord{static_cast<uint8_t>(i), static_cast<uint32_t>(t->type), t->ne,
                                   file_->tensor_file_offset(*t), t->name});
    }
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace moescope::offload
