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
    lossy_ =
        std::make_unique<LossyGating>(lossy, routed_expert_shape(model_), model_.hparams().gating);
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
