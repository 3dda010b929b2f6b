#pragma once
// The per-family forward passes and the steps they share. Each family's function reads like the
// model: embed, then per layer attention and FFN with their residuals, then the output head.
#include <cstdint>
#include <span>

#include "engine/model/forward_env.h"
#include "engine/model/hparams.h"
#include "engine/model/inference_state.h"
#include "engine/model/moe_block.h"
#include "engine/model/weights.h"

namespace moescope {

// One call of Model::forward (one sequence) or Model::forward_batch (several): the tokens of each
// sequence are consecutive rows, at that sequence's positions first_pos.. (= state.n_past()).
struct ForwardBatch {
  std::span<const int32_t> tokens;          // [n] all rows
  std::span<const SequenceRows> sequences;  // in row order, covering every row
  bool all_logits = true;
  float* logits = nullptr;  // [all_logits ? n : n_sequences][n_vocab]

  // The position the MoE block reports for row 0: a single sequence's first position; in a
  // batched call 0, so that routing events number the call's rows (MoeObserver).
  int64_t event_pos0() const { return sequences.size() == 1 ? sequences[0].first_pos : 0; }
};

// llama (Mixtral), granitemoe, phimoe, qwen2moe, qwen3moe, olmoe.
void forward_llama(const ModelHParams& hp, const ModelWeights& w, const ForwardBatch& batch,
                   const ForwardEnv& env);
void forward_deepseek2(const ModelHParams& hp, const ModelWeights& w, const ForwardBatch& batch,
                       const ForwardEnv& env);
void forward_gpt_oss(const ModelHParams& hp, const ModelWeights& w, const ForwardBatch& batch,
                     const ForwardEnv& env);

// Shared steps (forward_common.cpp).

// x[n][n_embd] = token embeddings.
void embed_tokens(const ModelWeights& w, std::span<const int32_t> tokens, float* x);

// Standard multi-head attention of layer il for the normalised input a[n][n_embd]: Q/K/V
// projections, per-arch q/k norms, RoPE, cache append, attention, output projection.
// out[n][n_embd]. Used by the llama family and gpt-oss.
void attention_block(const ModelHParams& hp, const ModelWeights& w, int64_t il, const float* a,
                     const ForwardBatch& batch, float* out, const ForwardEnv& env);

// The routed-expert configuration of MoE layer il.
MoeLayer moe_layer(const ModelHParams& hp, const ModelWeights& w, int64_t il,
                   ExpertActivation activation);

// Final norm and output projection of the kept rows of x[n][n_embd] into batch.logits: every row,
// or the last row of each sequence.
void output_head(const ModelHParams& hp, const ModelWeights& w, const float* x,
                 const ForwardBatch& batch, const ForwardEnv& env);

// y[i] = a[i] + b[i]; y may alias a or b.
void add(const float* a, const float* b, float* y, int64_t n);
// x[i] *= s
void scale(float* x, int64_t n, float s);

}  // namespace moescope
