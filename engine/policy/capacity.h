#pragma once
// How much fast memory experts may occupy. The user gives a Budget (slots or bytes); the cache
// enforces a CacheCapacity: either one partition per layer (c_l slots each, split by an allocator)
// or one global pool (C slots, or B bytes when expert sizes differ between layers).
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "engine/common/ids.h"
#include "engine/policy/moe_shape.h"

namespace moescope::policy {

enum class PoolKind : uint8_t { kPerLayer, kGlobal };

struct Budget {
  enum class Unit : uint8_t { kSlots, kBytes };
  Unit unit = Unit::kSlots;
  uint64_t amount = 0;

  static Budget slots(uint64_t n) { return {Unit::kSlots, n}; }
  static Budget bytes(uint64_t n) { return {Unit::kBytes, n}; }
  // "256MiB", "1.5GB", "4096" (bytes); throws moescope::Error on anything else.
  static Budget parse_bytes(std::string_view text);
};

// The one parser for a share of the routed experts, as every command spells it ("25%", "12.5%"):
// the fraction (0.25), or nullopt when the text is not a percentage. Throws moescope::Error
// unless 0 < share <= 100 %.
std::optional<double> parse_share(std::string_view text);

// A share of the shape's routed experts as a number of slots (at least `minimum`).
uint64_t share_slots(double share, const MoeShape& shape, uint64_t minimum = 1);

struct CacheCapacity {
  PoolKind pool = PoolKind::kPerLayer;
  bool in_bytes = false;             // global pool only: units are bytes instead of slots
  std::vector<int32_t> layer_slots;  // [n_layers] per-layer pool: slots of each layer
  uint64_t global = 0;               // global pool: slots or bytes

  static CacheCapacity per_layer(std::vector<int32_t> slots);
  static CacheCapacity uniform(int32_t n_layers, int32_t slots_per_layer);
  static CacheCapacity global_slots(uint64_t slots);
  static CacheCapacity global_bytes(uint64_t bytes);

  int32_t n_partitions(const MoeShape& shape) const {
    return pool == PoolKind::kPerLayer ? shape.n_layers() : 1;
  }
  int32_t partition_of(MoeLayerId l) const { return pool == PoolKind::kPerLayer ? l.value : 0; }
  // Units one expert of layer l occupies.
  uint64_t weight(const MoeShape& shape, MoeLayerId l) const {
    return in_bytes ? shape.bytes(l) : 1;
  }
  uint64_t partition_capacity(int32_t partition) const {
    return pool == PoolKind::kPerLayer ? uint64_t(layer_slots[partition]) : global;
  }
  // Experts that fit in total (slots), or the byte budget expressed as whole experts' bytes.
  uint64_t total_slots(const MoeShape& shape) const;

  void validate(const MoeShape& shape) const;
  bool operator==(const CacheCapacity&) const = default;
};

}  // namespace moescope::policy
