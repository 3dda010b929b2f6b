#pragma once
// Strong ids for the indices that are easiest to mix up when profiling routing: a layer (a model
// block, or a MoE layer: the two differ when a model's first blocks are dense), an expert within a
// layer, a token position within a sequence, and a request of a batch.
#include <compare>
#include <cstdint>
#include <functional>

namespace moescope {

template <typename Tag>
struct StrongId {
  int32_t value = 0;
  constexpr StrongId() = default;
  constexpr explicit StrongId(int32_t v) : value(v) {}
  constexpr auto operator<=>(const StrongId&) const = default;
};

// A block of the model (engine/model): dense and MoE blocks alike.
using LayerId = StrongId<struct LayerTag>;
// A MoE layer: the index among the blocks that have routed experts (the cache, its policies, the
// trace count in these). policy::MoeShape converts between the two (moe_layer, block).
using MoeLayerId = StrongId<struct MoeLayerTag>;
using ExpertId = StrongId<struct ExpertTag>;
using TokenPos = StrongId<struct TokenPosTag>;
// A request of a batched workload (engine/batching): one sequence with its own KV cache.
using RequestId = StrongId<struct RequestTag>;

// The unit of expert caching: expert e of MoE layer l.
struct ExpertKey {
  MoeLayerId layer;
  ExpertId expert;
  constexpr auto operator<=>(const ExpertKey&) const = default;
};

}  // namespace moescope

template <typename Tag>
struct std::hash<moescope::StrongId<Tag>> {
  size_t operator()(const moescope::StrongId<Tag>& id) const noexcept {
    return std::hash<int32_t>()(id.value);
  }
};

template <>
struct std::hash<moescope::ExpertKey> {
  size_t operator()(const moescope::ExpertKey& k) const noexcept {
    return (static_cast<size_t>(static_cast<uint32_t>(k.layer.value)) << 32) ^
           static_cast<uint32_t>(k.expert.value);
  }
};
