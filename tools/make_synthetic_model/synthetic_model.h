#pragma once
// A random-weight Mixtral-layout ("llama" architecture) MoE GGUF of any size, for offloading
// experiments whose expert bytes must dwarf the budget. No tokenizer: feed token ids.
#include <cstdint>
#include <filesystem>

#include "engine/tensor/ggml_type.h"

namespace moescope::tools {

struct SyntheticMoeSpec {
  int64_t n_layer = 8;
  int64_t n_embd = 1024;
  int64_t n_ff = 2048;  // per expert
  int64_t n_expert = 16;
  int64_t n_expert_used = 2;
  int64_t n_vocab = 512;
  int64_t n_head = 8;
  int64_t n_head_kv = 4;
  int64_t n_ctx = 512;
  GgmlType weight_type = GgmlType::Q8_0;  // every matrix; norms and the router stay F32
  uint64_t seed = 1;
};

struct SyntheticMoeSizes {
  uint64_t expert_bytes = 0;      // routed experts, all layers
  uint64_t non_expert_bytes = 0;  // everything else
};

// Bytes the model will have (without writing it).
SyntheticMoeSizes synthetic_moe_sizes(const SyntheticMoeSpec& spec);
// Writes the model; tensor data is generated while writing, so memory stays small.
// Throws moescope::Error on bad specs or I/O errors.
SyntheticMoeSizes write_synthetic_moe(const SyntheticMoeSpec& spec,
                                      const std::filesystem::path& out);

}  // namespace moescope::tools
