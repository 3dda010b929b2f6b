#pragma once
// The routed experts of a model as the store sees them: MoE layers only (dense layers and shared
// experts stay resident with the rest of the weights), each expert one packed image of
// packed_bytes() laid out by LayerExpertTensors::packed_offset. MoE layer m is model block
// model_layer[m]; the cache, its policy and its counters count in MoE layers.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/common/ids.h"
#include "engine/gguf/gguf_file.h"
#include "engine/model/expert_provider.h"
#include "engine/policy/moe_shape.h"

namespace moescope::offload {

// One present part of a MoE layer's experts, as recorded in an expert pack to tie the pack to the
// exact tensors it was cut from.
struct PartRecord {
  uint8_t part = 0;   // ExpertPart
  uint32_t type = 0;  // GgmlType
  std::vector<int64_t> ne;
  uint64_t file_offset = 0;  // absolute offset of the tensor in the GGUF file
  std::string name;
  bool operator==(const PartRecord&) const = default;
};

struct LayerRecord {
  int32_t model_layer = 0;
  int32_t n_expert = 0;
  uint64_t packed_bytes = 0;
  std::vector<PartRecord> parts;
  bool operator==(const LayerRecord&) const = default;
};

class ExpertLayout {
 public:
  // `layers` is the model's per-block list (all parts null for dense blocks); it refers to tensor
  // infos of `file`, which must outlive the layout. Throws moescope::Error when the model has no
  // routed experts.
  ExpertLayout(const gguf::GgufFile& file, const std::vector<LayerExpertTensors>& layers,
               int32_t top_k);

  const gguf::GgufFile& file() const { return *file_; }
  int32_t n_layers() const { return static_cast<int32_t>(tensors_.size()); }
  int32_t n_model_layers() const { return n_model_layers_; }
  const LayerExpertTensors& tensors(MoeLayerId l) const { return tensors_[size_t(l.value)]; }
  // The conversion between model blocks and MoE layers is the shape's (policy::MoeShape).
  LayerId block(MoeLayerId l) const { return shape_.block(l); }
  std::optional<MoeLayerId> moe_layer(LayerId block) const { return shape_.moe_layer(block); }
  int32_t n_expert(MoeLayerId l) const { return shape_.experts(l); }
  uint64_t packed_bytes(MoeLayerId l) const { return shape_.bytes(l); }
  uint64_t max_packed_bytes() const { return max_packed_bytes_; }
  uint64_t min_packed_bytes() const { return min_packed_bytes_; }
  int64_t total_experts() const { return shape_.total_experts(); }
  uint64_t total_bytes() const { return shape_.total_bytes(); }

  // Dense expert index (layers concatenated), as the policy's MoeShape counts them.
  int64_t key_index(ExpertKey k) const { return shape_.key_index(k); }
  const policy::MoeShape& shape() const { return shape_; }

  // Absolute file offset of expert e's slice of part p.
  uint64_t slice_file_offset(MoeLayerId l, ExpertPart p, int32_t expert) const;

  // What an expert pack records about the model, to refuse packs of other models.
  std::vector<LayerRecord> records() const;

 private:
  const gguf::GgufFile* file_;
  std::vector<LayerExpertTensors> tensors_;  // [n_moe_layers]
  int32_t n_model_layers_ = 0;
  uint64_t max_packed_bytes_ = 0;
  uint64_t min_packed_bytes_ = 0;
  policy::MoeShape shape_;
};

}  // namespace moescope::offload
