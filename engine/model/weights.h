#pragma once
// The non-expert weights of a model as views into the mapped GGUF file (small vectors such as
// norms and biases copied to f32), checked against the hyper-parameters. Routed experts are only
// described here (LayerExpertTensors); the forward pass reaches them through an ExpertProvider.
#include <vector>

#include "engine/gguf/gguf_file.h"
#include "engine/model/expert_provider.h"
#include "engine/model/hparams.h"
#include "engine/model/linear.h"

namespace moescope {

struct LayerWeights {
  // Attention input.
  std::vector<float> attn_norm;    // [n_embd]
  std::vector<float> attn_norm_b;  // [n_embd] phimoe

  // Standard attention: separate or fused Q/K/V projections, output projection.
  Linear wq, wk, wv;  // [n_head*hd_k][n_embd], [n_head_kv*hd_k][n_embd], [n_head_kv*hd_v][n_embd]
  Linear wqkv;        // fused rows [q | k | v]
  Linear wo;          // [n_embd][n_head*hd_v]
  std::vector<float> q_norm, k_norm;  // qwen3moe: [hd_k] per head; olmoe: whole projection
  std::vector<float> attn_sinks;      // gpt-oss [n_head]

  // DeepSeek2 multi-head latent attention.
  Linear wq_a, wq_b;             // [q_lora][n_embd], [n_head*(nope+rope)][q_lora]
  std::vector<float> q_a_norm;   // [q_lora]
  Linear wkv_a_mqa;              // [kv_lora + rope][n_embd]
  std::vector<float> kv_a_norm;  // [kv_lora]
  Linear wkv_b;                  // legacy layout: [n_head*(nope + v)][kv_lora]
  std::vector<WeightView> wk_b;  // split layout, per head: [kv_lora][nope]
  std::vector<WeightView> wv_b;  // split layout, per head: [v][kv_lora]

  // FFN input (gpt-oss: post_attention_norm).
  std::vector<float> ffn_norm;    // [n_embd]
  std::vector<float> ffn_norm_b;  // [n_embd] phimoe

  // Dense FFN (leading dense layers, expert-less llama).
  Linear ffn_gate, ffn_up, ffn_down;

  // MoE: router (+ bias), selection bias, shared expert.
  Linear router;                      // [n_expert][n_embd]
  std::vector<float> selection_bias;  // exp_probs_b [n_expert]
  Linear shexp_gate, shexp_up, shexp_down;
  Linear shexp_gate_inp;  // qwen2moe: one row [n_embd], a scalar gate per token
};

struct ModelWeights {
  WeightView tok_embd{};  // [n_vocab][n_embd]
  std::vector<float> output_norm, output_norm_b;
  Linear output;                  // [n_vocab][n_embd] (token_embd when tied) + phimoe bias
  std::vector<float> rope_freqs;  // [n_rot/2] llama-3 style frequency factors
  std::vector<float> rope_long, rope_short;  // phimoe longrope factors
  std::vector<LayerWeights> layers;
  std::vector<LayerExpertTensors> experts;  // [n_layer]; all parts null for dense layers
};

// Looks up and checks every tensor the architecture needs. Throws moescope::Error naming the
// tensor for a missing tensor, a wrong shape, an unsupported type, or a tensor the graph would not
// use (so a file needing features MoEScope lacks is not silently mis-computed).
ModelWeights load_weights(const gguf::GgufFile& file, const ModelHParams& hp);

}  // namespace moescope
