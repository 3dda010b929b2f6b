#pragma once
// Per-layer capacity allocators: split one budget into c_l slots per layer, with
// sum_l c_l * w_l <= budget (w_l = 1 slot, or the bytes of one expert of layer l) and
// c_l <= n_experts[l].
#include <cstdint>
#include <string_view>
#include <vector>

#include "engine/policy/capacity.h"
#include "engine/policy/moe_shape.h"
#include "engine/policy/routing_trace.h"

namespace moescope::policy {

enum class AllocatorKind : uint8_t {
  kUniform,       // the same share for every layer
  kTraffic,       // proportional to each layer's expert switches: sum_t |R(t,l) \ R(t-1,l)|
  kAdapMoe,       // dynamic program minimising sum_l f(l, c_l), f = LRU misses from the trace
  kShallowFirst,  // shares falling linearly with depth: L - l
};

AllocatorKind parse_allocator(std::string_view name);  // uniform, traffic, adapmoe, shallow-first
const char* allocator_name(AllocatorKind kind);

// trace is required by kTraffic and kAdapMoe.
std::vector<int32_t> allocate_layers(AllocatorKind kind, const MoeShape& shape, Budget budget,
                                     const RoutingTrace* trace = nullptr);

// The capacity a policy runs with: a global pool takes the budget as is; a per-layer pool splits
// it with the allocator.
CacheCapacity make_capacity(PoolKind pool, Budget budget, const MoeShape& shape,
                            AllocatorKind allocator = AllocatorKind::kUniform,
                            const RoutingTrace* trace = nullptr);

// The minimiser of sum_l cost[l][c_l] subject to sum_l c_l * weight[l] <= budget,
// c_l < cost[l].size(). Exposed for tests.
std::vector<int32_t> min_cost_allocation(const std::vector<std::vector<double>>& cost,
                                         const std::vector<uint64_t>& weight, uint64_t budget);

}  // namespace moescope::policy
