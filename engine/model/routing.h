#pragma once
// Expert selection for one token, exactly as llama.cpp's build_moe_ffn: gating, selection bias,
// expert-group masking, top-k, weight post-processing, renormalisation and scaling.
#include <cstdint>
#include <vector>

#include "engine/common/ids.h"
#include "engine/model/hparams.h"

namespace moescope {

struct RoutingParams {
  int64_t n_expert = 0;
  int64_t n_used = 0;
  GatingFunc gating = GatingFunc::Softmax;
  const float* selection_bias = nullptr;  // [n_expert] exp_probs_b: affects the choice only
  int64_t n_groups = 0;                   // > 1: keep only the n_group_used best groups
  int64_t n_group_used = 0;
  bool norm_weights = false;   // renormalise the k weights to sum 1
  float weights_scale = 0.0f;  // multiplies the weights unless 0 or 1
};

RoutingParams routing_params(const ModelHParams& hp);

// Reusable buffers for route_token (sized on first use).
struct RoutingScratch {
  std::vector<float> probs;      // [n_expert]
  std::vector<float> selection;  // [n_expert]
  std::vector<uint8_t> taken;    // [n_expert]
};

// logits [n_expert] -> selected [n_used] (best first; exact ties keep the lower index first),
// weights [n_used] in the same order, scores [n_used] = their selection scores.
void route_token(const RoutingParams& p, const float* logits, ExpertId* selected, float* weights,
                 float* scores, RoutingScratch& scratch);

// ggml_soft_max over n values: exp in float, sum in double, scaled by the float reciprocal.
void softmax_inplace(float* x, int64_t n);

}  // namespace moescope
