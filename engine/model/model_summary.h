#pragma once
// What `moescope inspect` reports: a summary computed from a GGUF file's metadata and tensor
// table, so it also works for architectures the engine cannot run. Whether the engine can run
// the model comes from the same checks Model::load and the tokenizer apply.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "engine/gguf/gguf_file.h"

namespace moescope {

struct TensorTypeUse {
  int64_t tensors = 0;
  uint64_t bytes = 0;
};

struct LayerExpertBytes {
  int layer = 0;
  int64_t n_expert = 0;
  uint64_t bytes_per_expert = 0;  // gate + up + down (+ biases) of one routed expert
};

struct ModelSummary {
  std::string architecture;
  std::string name;
  bool supported = false;  // the model loads and runs: check_runnable() found no problem
  std::string problem;     // why it does not, one line
  int64_t n_layer = 0;
  int64_t n_head = 0;
  int64_t n_head_kv = 0;
  int64_t n_embd = 0;
  int64_t n_ctx_train = 0;
  int64_t n_expert = 0;       // routed experts per MoE layer
  int64_t n_expert_used = 0;  // top-k
  int64_t n_expert_shared = 0;
  std::vector<int> dense_layers;  // layers with a dense FFN instead of routed experts
  int64_t n_vocab = 0;
  std::string tokenizer_model;
  uint64_t n_params = 0;
  uint64_t n_params_expert = 0;      // routed-expert parameters, all experts
  uint64_t n_params_active = 0;      // per token: everything but the unchosen experts
  uint64_t file_bytes = 0;
  uint64_t expert_bytes = 0;         // routed-expert tensor bytes (what offloading moves)
  std::vector<LayerExpertBytes> expert_bytes_per_layer;
  std::map<std::string, TensorTypeUse> type_histogram;  // by type name
};

ModelSummary summarize_model(const gguf::GgufFile& file);

}  // namespace moescope
