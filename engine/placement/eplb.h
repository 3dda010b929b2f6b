#pragma once
// DeepSeek's Expert Parallelism Load Balancer (deepseek-ai/EPLB, eplb.py; the same algorithm is
// SGLang's `deepseek` / `deepseek_hierarchical` and vLLM's default policy), written from its
// published description:
//   hierarchical (expert groups divisible over nodes): pack expert groups to nodes so node loads
//   balance, replicate experts within each node (always the expert with the highest load per
//   replica gets the next replica), then pack each node's replicas onto its GPUs, the same number
//   on each, balancing GPU loads;
//   global (otherwise): the same with one group and one node.
// Ties break as the reference does: items sorted by load, highest first (equal loads keep index
// order); the first pack with the lowest load among packs not yet full; the first expert with the
// highest load per replica. Loads are float32, as the reference computes them.
#include <cstdint>
#include <optional>
#include <vector>

#include "engine/placement/expert_placement.h"

namespace moescope::placement {

struct EplbResult {
  std::vector<std::vector<int32_t>> phy2log;  // [layers][physical] logical expert of each slot
  std::vector<std::vector<int32_t>> phyrank;  // [layers][physical] replica rank of each slot
  std::vector<std::vector<int32_t>> logcnt;   // [layers][logical] replicas of each expert
  // [layers][logical][max replicas] slot of each replica (by rank), -1 padded.
  std::vector<std::vector<std::vector<int32_t>>> log2phy;
  bool hierarchical = false;
};

// weight: [layers][logical experts] load statistics. num_groups: expert groups (DeepSeek-V3:
// n_group); unset or not divisible by num_nodes selects the global policy, as SGLang does.
// Throws moescope::Error when the sizes do not divide as the algorithm needs.
EplbResult rebalance_experts(const std::vector<std::vector<double>>& weight,
                             int32_t num_replicas, std::optional<int32_t> num_groups,
                             int32_t num_nodes, int32_t num_gpus);

// Balanced packing of n weighted items into num_packs packs of exactly n / num_packs items each.
// Returns (pack of each item, rank of the item within its pack).
std::pair<std::vector<int32_t>, std::vector<int32_t>> balanced_packing(
    const std::vector<float>& weight, int32_t num_packs);

// The EPLB placement of a trace's loads on a topology with `redundant` extra replicas per layer.
Placement eplb_placement(const std::vector<std::vector<double>>& loads, const Topology& topology,
                         int32_t redundant, std::optional<int32_t> num_groups);

}  // namespace moescope::placement
