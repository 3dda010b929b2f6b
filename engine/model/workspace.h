#pragma once
// Scratch buffers of the forward pass, kept between calls so decoding does not allocate.
#include <array>
#include <cstddef>
#include <vector>

namespace moescope {

// Named scratch slots. A forward step may use any slot its caller does not hold across the call;
// the comments say who uses which.
enum Scratch : size_t {
  kResidual,  // x: the residual stream (forward functions)
  kAttnIn,    // normalised layer input
  kQ,         // queries
  kAttnOut,   // attention output before Wo
  kProj,      // Wo output / FFN output
  kHidden,    // residual after attention
  kFfnIn,     // normalised FFN input
  kFfnOut,    // FFN / MoE output
  kShared,    // shared expert output
  kTmp0,      // short-lived temporaries inside one step
  kTmp1,
  kTmp2,
  kTmp3,
  kOutRows,  // rows kept for the output head
  kFfnGate,  // dense FFN (swiglu_ffn)
  kFfnUp,
  kBiasRow,  // matmul_bias
  kBatchK,   // a batched call's keys and values before they go to each sequence's cache
  kBatchV,
  kScratchCount
};

class Workspace {
 public:
  // A buffer of at least n floats for `slot` (contents unspecified); stays valid until the same
  // slot is requested again with a larger n.
  float* get(Scratch slot, size_t n) {
    std::vector<float>& b = buffers_[slot];
    if (b.size() < n) b.resize(n);
    return b.data();
  }

 private:
  std::array<std::vector<float>, kScratchCount> buffers_;
};

}  // namespace moescope
