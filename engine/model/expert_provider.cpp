#include "engine/model/expert_provider.h"

#include "engine/common/error.h"

namespace moescope {
namespace {

uint64_t row_bytes_of(const gguf::TensorInfo& t) {
  return ggml_row_bytes(ggml_type_traits(t.type), static_cast<uint64_t>(t.dim(0)));
}

// Rows of one expert's slice: a weight slice has ne[1] rows, a bias slice (2-D tensor) one.
int64_t slice_rows(const gguf::TensorInfo& t) {
  return t.ne.size() >= 3 ? t.dim(1) : 1;
}

WeightView slice_view(const gguf::TensorInfo* t, const std::byte* data) {
  if (t == nullptr) return WeightView{};
  return WeightView{t->type, data, slice_rows(*t), t->dim(0), row_bytes_of(*t)};
}

uint64_t align_up(uint64_t n) {
  return (n + kPackedExpertAlignment - 1) / kPackedExpertAlignment * kPackedExpertAlignment;
}

}  // namespace

int64_t LayerExpertTensors::n_expert() const {
  for (const auto* t : parts) {
    if (t != nullptr) return t->ne.back();
  }
  return 0;
}

uint64_t LayerExpertTensors::slice_bytes(ExpertPart p) const {
  const gguf::TensorInfo* t = part(p);
  if (t == nullptr) return 0;
  return row_bytes_of(*t) * static_cast<uint64_t>(slice_rows(*t));
}

uint64_t LayerExpertTensors::packed_offset(ExpertPart p) const {
  uint64_t offset = 0;
  for (size_t i = 0; i < static_cast<size_t>(p); ++i) {
    offset += align_up(slice_bytes(static_cast<ExpertPart>(i)));
  }
  return offset;
}

uint64_t LayerExpertTensors::packed_bytes() const {
  return packed_offset(static_cast<ExpertPart>(kExpertPartCount - 1)) +
         align_up(slice_bytes(static_cast<ExpertPart>(kExpertPartCount - 1)));
}

ExpertWeights expert_views(const LayerExpertTensors& tensors,
                           const std::array<const std::byte*, kExpertPartCount>& tensor_base,
                           ExpertId expert) {
  if (expert.value < 0 || expert.value >= tensors.n_expert()) {
    fail("expert {} is out of range (the layer has {} experts)", expert.value, tensors.n_expert());
  }
  std::array<const std::byte*, kExpertPartCount> slice{};
  for (size_t i = 0; i < kExpertPartCount; ++i) {
    const auto p = static_cast<ExpertPart>(i);
    if (tensors.has(p)) {
      slice[i] = tensor_base[i] + static_cast<uint64_t>(expert.value) * tensors.slice_bytes(p);
    }
  }
  return ExpertWeights{
      slice_view(tensors.part(ExpertPart::Gate), slice[0]),
      slice_view(tensors.part(ExpertPart::Up), slice[1]),
      slice_view(tensors.part(ExpertPart::Down), slice[2]),
      slice_view(tensors.part(ExpertPart::GateUp), slice[3]),
      slice_view(tensors.part(ExpertPart::GateBias), slice[4]),
      slice_view(tensors.part(ExpertPart::UpBias), slice[5]),
      slice_view(tensors.part(ExpertPart::DownBias), slice[6]),
  };
}

ExpertWeights packed_expert_views(const LayerExpertTensors& tensors, const std::byte* packed) {
  auto at = [&](ExpertPart p) {
    return slice_view(tensors.part(p), packed + tensors.packed_offset(p));
  };
  return ExpertWeights{at(ExpertPart::Gate),    at(ExpertPart::Up),       at(ExpertPart::Down),
                       at(ExpertPart::GateUp),  at(ExpertPart::GateBias), at(ExpertPart::UpBias),
                       at(ExpertPart::DownBias)};
}

MappedExpertProvider::MappedExpertProvider(const gguf::GgufFile& file,
                                           const std::vector<LayerExpertTensors>& layers)
    : layers_(layers), bases_(layers.size()) {
  for (size_t il = 0; il < layers.size(); ++il) {
    for (size_t i = 0; i < kExpertPartCount; ++i) {
      if (const gguf::TensorInfo* t = layers[il].parts[i]) {
        bases_[il][i] = file.tensor_data(*t).data();
      }
    }
  }
}

ExpertWeights MappedExpertProvider::acquire(LayerId layer, ExpertId expert) {
  if (layer.value < 0 || static_cast<size_t>(layer.value) >= layers_.size()) {
    fail("layer {} has no routed experts", layer.value);
  }
  return expert_views(layers_[layer.value], bases_[layer.value], expert);
}

}  // namespace moescope
