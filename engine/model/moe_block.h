#pragma once
// The MoE block: route every token, report the decision to the observer, then run each needed
// expert once over all the tokens that chose it, fetching its weights from the ExpertProvider.
#include <cstdint>
#include <vector>

#include "engine/common/ids.h"
#include "engine/model/forward_env.h"
#include "engine/model/linear.h"
#include "engine/model/routing.h"
#include "engine/tensor/matvec_group.h"

namespace moescope {

enum class ExpertActivation { Silu, SwigluOai };

struct MoeLayer {
  LayerId layer;
  const Linear* router = nullptr;  // [n_expert][n_embd] (+ bias)
  RoutingParams routing;
  ExpertActivation activation = ExpertActivation::Silu;
  int64_t n_embd = 0;
  int64_t n_ff = 0;  // one expert's hidden width
};

// Throws unless an expert provider's view of part `what` is present with rows x cols.
void check_expert_view(const WeightView& w, int64_t rows, int64_t cols, const char* what,
                       LayerId layer, ExpertId expert);

class MoeBlock {
 public:
  // out[n][n_embd] = Σ_k weight_k · expert_k(x) for the normalised FFN input x[n][n_embd] of
  // tokens at positions first_pos.. . hidden[n][n_embd] is the residual stream after the layer's
  // attention (the FFN norm's input), passed to the observer.
  void forward(const MoeLayer& layer, const float* x, int64_t n, int64_t first_pos,
               const float* hidden, float* out, const ForwardEnv& env);

 private:
  void run_expert(const MoeLayer& layer, ExpertId expert, const std::vector<int32_t>& uses,
                  const float* x, const ForwardEnv& env);
  // One token (n == 1), its experts held together (moe_block_decode.cpp): gate/up of every
  // selected expert in one parallel region, then every down projection in another.
  // order_[first, first + count) only: the experts held together.
  void decode_experts(const MoeLayer& layer, const float* x, const ForwardEnv& env, size_t first,
                      size_t count);
  void decode_projections(const MoeLayer& layer, const float* x, const ForwardEnv& env,
                          size_t first);
  // One token whose experts the provider cannot all hold (an offloading store): the ones in
  // memory together (decode_experts), then each group as it lands, so that loads overlap compute.
  void decode_ready_first(const MoeLayer& layer, const float* x, const ForwardEnv& env);
  // Rows r0 .. r0 + m - 1 of xe_ through the expert into the same rows of down_.
  void expert_rows(const MoeLayer& layer, ExpertId expert, const ExpertWeights& w, int64_t r0,
                   int64_t m, const ForwardEnv& env);
  // A prompt (n > 1) whose experts the provider can all hold (moe_block_prefill.cpp): every
  // expert's tokens gathered together, then gate/up of all experts in one matmul_group, every
  // activation, all down projections in another. False (nothing computed, nothing held) when a
  // product would not take the batch-invariant dot kernels that matmul_group runs.
  bool prefill_experts(const MoeLayer& layer, const float* x, const ForwardEnv& env);
  void prefill_products(const MoeLayer& layer, const ForwardEnv& env);
  // m rows of an expert's gate[m][F] and up[m][F] products (a fused gate_up: gate[m][2F], split
  // here) -> their biases, then act[m][F] = activation(gate, up) in up.
  void activate_rows(const MoeLayer& layer, const ExpertWeights& w, float* gate_rows,
                     float* up_rows, int64_t m, const ForwardEnv& env);
  // slot_out_[use] = weight · down_rows[r] for each use (t * k + slot) of an expert.
  void scatter_outputs(const std::vector<int32_t>& uses, const float* down_rows, int64_t E);
  // Lets env.routing edit token t's choice; returns the slots kept.
  int64_t override_routing(const MoeLayer& layer, TokenPos pos, int64_t n, int64_t t,
                           const ForwardEnv& env);
  // Lets env.routing edit the whole call's choices at once (capacity-aware gating).
  void override_batch(const MoeLayer& layer, int64_t n, const ForwardEnv& env);
  // Throws unless token t's first `kept` slots are distinct experts in range, 1 <= kept <= k.
  void check_override(const MoeLayer& layer, int64_t t, int64_t kept) const;

  std::vector<float> logits_;                 // [n][n_expert]
  std::vector<ExpertId> selected_;            // [n][k]
  std::vector<float> weights_;                // [n][k]
  std::vector<float> scores_;                 // [n][k]
  std::vector<int64_t> n_kept_;               // [n] slots that run (k unless overridden)
  std::vector<float> slot_out_;               // [n][k][n_embd] weighted expert outputs
  std::vector<std::vector<int32_t>> uses_;    // per expert: t * k + slot of every use
  std::vector<ExpertId> order_;               // experts needed by this batch, in processing order
  std::vector<float> xe_, gate_, up_, down_;  // one expert's batch (decode: every expert's)
  std::vector<ExpertWeights> held_;           // decode: the experts acquired, in order_ from
                                              // decode_experts' `first`
  std::vector<MatvecJob> jobs_;               // decode: one parallel region's products
  std::vector<MatmulJob> batch_jobs_;         // prefill: one parallel region's products
  std::vector<int64_t> first_row_;            // prefill: order_[i]'s first row in xe_ etc.
  RoutingScratch scratch_;
};

}  // namespace moescope
