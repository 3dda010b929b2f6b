#pragma once
// A later MoE layer's router applied to the residual stream of an earlier one: the guess that
// next-gate prefetching makes of a layer's experts before it runs. Layer l+d's gate input exists
// only after l+d's attention, so the probe normalises the hidden state after layer l's attention
// (the freshest one when l routes) with l+d's FFN norm and ranks experts as l+d's router would
// (selection bias and groups included).
// Reads the model's weights; the forward pass is not involved.
#include <cstdint>
#include <span>
#include <vector>

#include "engine/common/ids.h"
#include "engine/model/routing.h"

namespace moescope {

class Model;

class RouterProbe {
 public:
  // The model must outlive the probe.
  explicit RouterProbe(Model& model);

  // The k best experts of MoE block `layer` for hidden[n_embd], best first (k is clamped to the
  // layer's expert count). Throws moescope::Error for a dense block or a wrong hidden size.
  void top_experts(LayerId layer, std::span<const float> hidden, int32_t k,
                   std::vector<ExpertId>& out);

 private:
  Model& model_;
  std::vector<float> normed_;  // [n_embd]
  std::vector<float> logits_;  // [n_expert]
  std::vector<float> weights_, scores_;
  RoutingScratch scratch_;
};

}  // namespace moescope
