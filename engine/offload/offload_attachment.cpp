#include "engine/offload/offload_attachment.h"

#include <utility>
#include <vector>

#include "engine/model/routing_trace_recorder.h"

namespace moescope::offload {

OffloadAttachment::OffloadAttachment(Model& model, const std::optional<OffloadConfig>& config,
                                     const LossyOptions& lossy, MoeObserver* downstream)
    : model_(model), previous_observer_(model.observer()) {
  if (config) {
    store_ = ExpertStore::attach(model_, *config, downstream);
    return;
  }
  if (lossy.any()) {
    const policy::MoeShape shape = routed_expert_shape(model_);
    std::vector<int32_t> moe_index(size_t(model_.hparams().n_layer), -1);
    for (int32_t m = 0; m < shape.n_layers(); ++m) moe_index[size_t(shape.model_layer[m])] = m;
    lossy_ = std::make_unique<LossyGating>(lossy, std::move(moe_index), model_.hparams().gating);
    model_.set_routing_override(lossy_.get());
  }
  if (downstream != nullptr) model_.set_observer(downstream);
}

OffloadAttachment::~OffloadAttachment() {
  if (store_) store_->detach(model_);
  if (lossy_) model_.set_routing_override(nullptr);
  model_.set_observer(previous_observer_);
}

LossyCounters OffloadAttachment::lossy_counters() const {
  if (store_) return store_->lossy_counters();
  return lossy_ ? lossy_->counters() : LossyCounters{};
}

}  // namespace moescope::offload
