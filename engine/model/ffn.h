#pragma once
// Dense SwiGLU feed-forward network (leading dense layers, shared experts).
#include <cstdint>

#include "engine/model/forward_env.h"
#include "engine/model/linear.h"

namespace moescope {

// out[n][n_embd] = W_down · (silu(W_gate x) ⊙ (W_up x)) for x[n][n_embd]. Uses the kFfnGate and
// kFfnUp scratch slots.
void swiglu_ffn(const Linear& gate, const Linear& up, const Linear& down, const float* x, int64_t n,
                float* out, const ForwardEnv& env);

}  // namespace moescope
