#include "engine/model/ffn.h"

#include "engine/model/activations.h"

namespace moescope {

void swiglu_ffn(const Linear& gate, const Linear& up, const Linear& down, const float* x, int64_t n,
                float* out, const ForwardEnv& env) {
  const int64_t F = up.rows();
  float* g = env.ws.get(kFfnGate, n * F);  // [n][F]
  float* u = env.ws.get(kFfnUp, n * F);    // [n][F]
  linear(up, x, n, u, env);
  linear(gate, x, n, g, env);
  swiglu(g, u, u, n * F);
  linear(down, u, n, out, env);
}

}  // namespace moescope
