#include "views/batch/step_accumulator.h"

#include <algorithm>
#include <utility>

namespace moescope::views {

StepAccumulator::StepAccumulator(policy::MoeShape shape) : shape_(std::move(shape)) {
  base_.assign(size_t(shape_.n_layers()) + 1, 0);
  for (int32_t l = 0; l < shape_.n_layers(); ++l)
    base_[size_t(l) + 1] = base_[size_t(l)] + shape_.n_experts[size_t(l)];
  counts_.assign(size_t(base_.back()), 0);
}

void StepAccumulator::begin(int64_t step, int rows) {
  std::fill(counts_.begin(), counts_.end(), 0);
  step_ = BatchStep{};
  step_.step = step;
  step_.rows = rows;
}

void StepAccumulator::add(int layer, std::span<const ExpertId> experts) {
  if (layer < 0 || layer >= shape_.n_layers()) return;
  for (ExpertId e : experts) {
    if (e.value < 0 || e.value >= shape_.n_experts[size_t(layer)]) continue;
    ++counts_[size_t(base_[size_t(layer)] + e.value)];
  }
}

BatchStep StepAccumulator::end() {
  const size_t L = size_t(shape_.n_layers());
  step_.distinct.assign(L, 0);
  step_.max_tokens.assign(L, 0);
  step_.routings.assign(L, 0);
  for (size_t l = 0; l < L; ++l) {
    for (int64_t k = base_[l]; k < base_[l + 1]; ++k) {
      const int32_t c = counts_[size_t(k)];
      step_.distinct[l] += c > 0;
      step_.max_tokens[l] = std::max(step_.max_tokens[l], c);
      step_.routings[l] += c;
    }
  }
  BatchStep out = std::move(step_);
  begin(out.step + 1, 0);
  return out;
}

}  // namespace moescope::views
