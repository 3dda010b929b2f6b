#pragma once
// Files serving engines load, written from a trace's placement analysis (docs/placement.md gives
// each format's source):
// - SGLang `--init-expert-location FILE.json` with {"logical_count": [[...]]}: integer load of
//   every logical expert, one row per model layer ([num_hidden_layers][num_logical_experts];
//   dense layers are zero rows). SGLang runs its EPLB on it at start-up
//   (python/sglang/srt/eplb/expert_location.py, compute_initial_expert_location_metadata ->
//   ExpertLocationMetadata.init_by_eplb).
// - SGLang `--init-expert-location FILE.json` with {"physical_to_logical_map": [[...]]}:
//   [num_hidden_layers][num_physical_experts], the logical expert of every physical slot (the
//   EPLB output; dense layers get the trivial map s % E). Only that key: SGLang passes the dict as
//   keyword arguments to init_by_mapping.
// - A llama.cpp offload plan for a memory budget: `--n-cpu-moe N` (the expert tensors of model
//   blocks 0..N-1 stay in host memory) and an equivalent-budget `--override-tensor` list
//   (`blk\.(i|j|...)\.ffn_(up|down|gate|gate_up)_(ch|)exps=CPU`, llama.cpp's own expert-tensor
//   regex from common/common.h llm_ffn_exps_block_regex), each with the hit rate MoEScope
//   predicts: the share of routed (token, expert) pairs whose expert weights sit in GPU memory.
//   llama.cpp places whole layers (one tensor holds all experts of a block).
#include <cstdint>
#include <string>
#include <vector>

#include "engine/placement/expert_placement.h"
#include "engine/policy/moe_shape.h"

namespace moescope::placement {

// loads: [MoE layers][experts]; model_layer: [MoE layers] block index; n_model_layers: blocks.
// Throws moescope::Error when the layers have different expert counts or a block index is out
// of range.
std::string sglang_logical_count_json(const std::vector<std::vector<double>>& loads,
                                      const std::vector<int32_t>& model_layer,
                                      int32_t n_model_layers);
std::string physical_to_logical_json(const Placement& placement,
                                     const std::vector<int32_t>& n_experts,
                                     const std::vector<int32_t>& model_layer,
                                     int32_t n_model_layers);

struct LlamaOffloadChoice {
  std::vector<int32_t> cpu_blocks;  // model blocks whose experts stay in host memory
  uint64_t gpu_expert_bytes = 0;    // expert bytes that go to the GPU
  double hit_rate = 0;              // routed pairs served from GPU memory / all routed pairs
  std::string args;                 // the llama.cpp arguments
};

struct LlamaPlan {
  uint64_t budget_bytes = 0;
  LlamaOffloadChoice n_cpu_moe;        // the smallest N that fits
  int32_t n_cpu_moe_value = 0;
  LlamaOffloadChoice override_tensor;  // the most-used layers that fit (by activations per byte)
};

// loads: [MoE layers][experts] routed pairs; the shape gives bytes and block indices.
LlamaPlan llama_offload_plan(const policy::MoeShape& shape,
                             const std::vector<std::vector<double>>& loads, uint64_t budget_bytes);
std::string llama_plan_json(const LlamaPlan& plan);

// llama.cpp's expert-tensor pattern for a set of blocks.
std::string llama_override_pattern(const std::vector<int32_t>& blocks);

}  // namespace moescope::placement
