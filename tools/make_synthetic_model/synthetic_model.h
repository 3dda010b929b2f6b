#pragma once
// A random-weight MoE GGUF of any size, with a SentencePiece tokenizer (synthetic_vocab.h), for
// offloading experiments whose expert bytes must dwarf the budget and for memory-bound speed
// benchmarks against llama.cpp on the same file. Two layouts:
// - Mixtral ("llama" architecture): attention, router, routed experts;
// - DeepSeek-V3 ("deepseek2" architecture, n_expert_shared > 0): multi-head latent attention with
//   a compressed query, dense leading blocks, routed experts plus ungated shared experts.
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
  // 0: every row of every matrix is quantized from its own random values. N > 0: each tensor's
  // first N rows are, the others are copies of random ones among them — for K-quants, whose
  // quantizer is about 100x slower than Q8_0's, on multi-GB models where only speed matters.
  int64_t row_pool = 0;
  // DeepSeek layout (when n_expert_shared > 0): shared experts of n_ff each, leading dense
  // blocks of n_ff_dense, MLA ranks and head sizes (query/key = nope + rope, value).
  int64_t n_expert_shared = 0;
  int64_t n_layer_dense_lead = 1;
  int64_t n_ff_dense = 4096;
  int64_t q_lora_rank = 512;
  int64_t kv_lora_rank = 512;
  int64_t head_dim_nope = 128;
  int64_t head_dim_rope = 64;
  int64_t head_dim_v = 128;

  bool deepseek() const { return n_expert_shared > 0; }
};

struct SyntheticMoeSizes {
  uint64_t expert_bytes = 0;      // routed experts, all layers
  uint64_t non_expert_bytes = 0;  // everything else
  // Weight bytes one decode token reads: every non-expert matrix except the token embedding (one
  // row of it is read) plus n_expert_used experts per MoE layer.
  uint64_t decode_bytes = 0;
};

// Bytes the model will have (without writing it).
SyntheticMoeSizes synthetic_moe_sizes(const SyntheticMoeSpec& spec);
// Writes the model; tensor data is generated while writing, so memory stays small.
// Throws moescope::Error on bad specs or I/O errors.
SyntheticMoeSizes write_synthetic_moe(const SyntheticMoeSpec& spec,
                                      const std::filesystem::path& out);

}  // namespace moescope::tools
