#pragma once
// The hyper-parameters of a supported MoE model, read from GGUF metadata with llama.cpp's keys,
// defaults and checks (see shared/docs/gguf-moe.md), plus the run-time RoPE/YaRN values that
// llama.cpp resolves when it creates a context.
#include <cstdint>
#include <string>
#include <vector>

#include "engine/gguf/gguf_file.h"

namespace moescope {

enum class Architecture { Llama, Qwen2Moe, Qwen3Moe, Olmoe, GraniteMoe, PhiMoe, Deepseek2, GptOss };

// NORM rotates adjacent pairs (x[2i], x[2i+1]); NEOX rotates (x[i], x[i + n_rot/2]).
enum class RopeType { Norm, Neox };
enum class RopeScalingType { None, Linear, Yarn, LongRope };

// How router logits become expert probabilities (`expert_gating_func`).
enum class GatingFunc {
  Softmax = 1,        // softmax over all experts
  Sigmoid = 2,        // independent sigmoid per expert (DeepSeek-V3)
  SoftmaxWeight = 3,  // top-k on raw logits, softmax over the k selected (gpt-oss)
  SqrtSoftplus = 4,   // sqrt(softplus(logit))
};

struct ModelHParams {
  std::string architecture;  // general.architecture, llama.cpp's spelling
  Architecture arch = Architecture::Llama;

  int64_t n_vocab = 0;
  int64_t n_ctx_train = 0;
  int64_t n_embd = 0;
  int64_t n_layer = 0;
  std::vector<int64_t> n_head_arr;     // [n_layer]
  std::vector<int64_t> n_head_kv_arr;  // [n_layer]
  std::vector<int64_t> n_ff_arr;  // [n_layer] dense FFN width (per-expert width for some archs)
  int64_t head_dim_k = 0;         // attention.key_length
  int64_t head_dim_v = 0;         // attention.value_length
  int64_t n_rot = 0;              // rotated dimensions per head
  float rms_eps = 0;

  // RoPE, as a llama.cpp context resolves it.
  RopeType rope_type = RopeType::Norm;
  RopeScalingType rope_scaling = RopeScalingType::Linear;
  bool use_rope = true;  // granite's rope.scaling.finetuned switch
  float rope_freq_base = 10000.0f;
  float rope_freq_base_swa = 10000.0f;  // used by sliding-window layers
  float rope_freq_scale = 1.0f;         // 1 / rope.scaling.factor
  int64_t n_ctx_orig_yarn = 0;
  float yarn_ext_factor = 0.0f;   // 1 with YaRN: mixes interpolated and extrapolated angles
  float rope_attn_factor = 1.0f;  // the mscale handed to every RoPE call
  float yarn_beta_fast = 32.0f;
  float yarn_beta_slow = 1.0f;
  float yarn_log_mul = 0.0f;  // deepseek2 mscale_all_dim (key value / 0.1)

  // Experts.
  int64_t n_expert = 0;
  int64_t n_expert_used = 0;
  int64_t n_ff_exp = 0;         // routed expert width (0: use n_ff(il))
  int64_t n_ff_shexp = 0;       // shared expert width (0: none)
  int64_t n_expert_shared = 0;  // deepseek2: number of shared experts fused into one FFN
  int64_t n_layer_dense_lead = 0;
  int64_t n_expert_groups = 0;
  int64_t n_group_used = 0;
  GatingFunc gating = GatingFunc::Softmax;
  bool expert_weights_norm = false;
  float expert_weights_scale = 0.0f;  // applied only when neither 0 nor 1

  // Granite scales (0 = not applied).
  float embedding_scale = 0.0f;
  float residual_scale = 0.0f;
  float attention_scale = 0.0f;  // replaces 1/sqrt(head_dim) when set (llama, granitemoe)
  float logit_scale = 0.0f;

  // Sliding-window attention (gpt-oss).
  int64_t n_swa = 0;
  std::vector<bool> swa_layers;  // [n_layer]

  // DeepSeek2 multi-head latent attention.
  int64_t q_lora_rank = 0;
  int64_t kv_lora_rank = 0;
  int64_t head_dim_k_mla = 0;  // nope + rope when the file uses the split (absorbed) layout
  int64_t head_dim_v_mla = 0;

  int64_t n_head(int64_t il = 0) const { return n_head_arr[il]; }
  int64_t n_head_kv(int64_t il = 0) const { return n_head_kv_arr[il]; }
  int64_t n_ff(int64_t il = 0) const { return n_ff_arr[il]; }
  // Width of one routed expert's FFN in layer il.
  int64_t expert_ff(int64_t il) const { return n_ff_exp > 0 ? n_ff_exp : n_ff(il); }
  bool is_moe_layer(int64_t il) const { return n_expert > 0 && il >= n_layer_dense_lead; }
  bool is_swa(int64_t il) const { return n_swa > 0 && swa_layers[il]; }
  bool is_mla() const { return head_dim_k_mla > 0 && head_dim_v_mla > 0; }
  float freq_base(int64_t il) const { return is_swa(il) ? rope_freq_base_swa : rope_freq_base; }
};

// Reads and checks the hyper-parameters of `file`. Throws moescope::Error for an unsupported
// architecture (naming it and listing the supported ones), a missing required key (naming it) or
// values llama.cpp would reject.
ModelHParams read_hparams(const gguf::GgufFile& file);

std::string_view gating_func_name(GatingFunc gating);

}  // namespace moescope
