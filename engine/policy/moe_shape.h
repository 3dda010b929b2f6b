#pragma once
// The shape of a model's routed experts, as far as caching cares: how many experts each MoE layer
// has, how many a token selects, and how many bytes one expert's weights take. Layers here are MoE
// layers only (dense layers and shared experts are always resident and never counted); MoE layer m
// is model block model_layer[m], and moe_layer / block are the one conversion between the two.
#include <cstdint>
#include <optional>
#include <vector>

#include "engine/common/ids.h"

namespace moescope::policy {

struct MoeShape {
  std::vector<int32_t> n_experts;      // [n_layers] routed experts of each MoE layer
  std::vector<int32_t> top_k;          // [n_layers] experts a token selects (nominal k)
  std::vector<uint64_t> expert_bytes;  // [n_layers] bytes of one expert (gate+up+down)
  std::vector<int32_t> model_layer;    // [n_layers] block index in the model (distinct)

  int32_t n_layers() const { return static_cast<int32_t>(n_experts.size()); }
  // The model block of MoE layer l (l in range), and the MoE layer of a model block: nullopt for
  // a dense block and a block outside the model.
  LayerId block(MoeLayerId l) const { return LayerId(model_layer[size_t(l.value)]); }
  std::optional<MoeLayerId> moe_layer(LayerId block) const;

  int32_t experts(MoeLayerId l) const { return n_experts[l.value]; }
  uint64_t bytes(MoeLayerId l) const { return expert_bytes[l.value]; }
  int64_t total_experts() const;
  uint64_t total_bytes() const;

  // Dense index of (l, e) in [0, total_experts()): layers concatenated.
  int64_t key_index(ExpertKey k) const { return key_base_[k.layer.value] + k.expert.value; }
  ExpertKey key_at(int64_t index) const;
  bool contains(ExpertKey k) const {
    return k.layer.value >= 0 && k.layer.value < n_layers() && k.expert.value >= 0 &&
           k.expert.value < n_experts[k.layer.value];
  }

  // Checks sizes and limits (untrusted input) and computes the key index; throws moescope::Error.
  void validate();
  // The same shape for every layer.
  static MoeShape uniform(int32_t n_layers, int32_t n_experts, int32_t top_k,
                          uint64_t expert_bytes);

  bool operator==(const MoeShape& o) const {
    return n_experts == o.n_experts && top_k == o.top_k && expert_bytes == o.expert_bytes &&
           model_layer == o.model_layer;
  }

 private:
  std::vector<int64_t> key_base_;   // [n_layers + 1] prefix sums of n_experts
  std::vector<int32_t> moe_layer_;  // [max model_layer + 1] MoE layer of a block, -1: dense
};

}  // namespace moescope::policy
