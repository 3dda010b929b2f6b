#pragma once
// Rotary position embedding exactly as ggml's CPU rope (ggml_rope_ext): angles built by repeated
// float multiplication, optional per-pair frequency factors, linear frequency scaling and YaRN.
#include <cstdint>

#include "engine/model/hparams.h"

namespace moescope {

struct RopeParams {
  RopeType type = RopeType::Norm;
  int64_t n_rot = 0;  // rotated dimensions per head (the rest pass through)
  float freq_base = 10000.0f;
  float freq_scale = 1.0f;
  float ext_factor = 0.0f;              // YaRN mix (1 with YaRN, 0 otherwise)
  float attn_factor = 1.0f;             // multiplies cos and sin
  float corr_dims[2] = {0, 0};          // YaRN ramp between these pair indices
  const float* freq_factors = nullptr;  // [n_rot / 2] divides each pair's angle (rope_freqs)
};

// The parameters llama.cpp passes to every rope call of layer il.
RopeParams rope_params(const ModelHParams& hp, int64_t il, int64_t n_rot,
                       const float* freq_factors);

// cos and sin of every rotated pair at position pos: cache[2i] = cos, cache[2i + 1] = sin.
// cache holds n_rot floats.
void rope_cache(const RopeParams& p, int64_t pos, float* cache);

// Rotates the first n_rot values of one head in place with a cache from rope_cache().
void rope_head(const RopeParams& p, const float* cache, float* head);

// Rotates n_heads heads (head_stride floats apart) in each of n_tokens rows (row_stride apart);
// row t is at position first_pos + t.
void rope_rows(const RopeParams& p, float* x, int64_t n_tokens, int64_t row_stride, int64_t n_heads,
               int64_t head_stride, int64_t first_pos);

}  // namespace moescope
