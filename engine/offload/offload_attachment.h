#pragma once
// Offloading and lossy gating installed on a model for one run, and taken off again when the
// attachment goes: with a configuration the real ExpertStore (which carries its own lossy
// variants), without one only the lossy gating (adaptive top-k needs no store), else nothing but
// the observer. Every front end that runs the model this way (the session pipeline in
// storage/session, the CLI's bench and perplexity) attaches through here.
#include <memory>
#include <optional>

#include "engine/model/model.h"
#include "engine/offload/expert_store.h"
#include "engine/offload/lossy_gating.h"
#include "engine/offload/offload_config.h"

namespace moescope::offload {

class OffloadAttachment {
 public:
  // `downstream` hears the routing events (after the store when there is one); the model's
  // previous observer comes back when the attachment is destroyed. Throws moescope::Error (a bad
  // configuration, an unreadable expert pack); the model is then left as it was.
  OffloadAttachment(Model& model, const std::optional<OffloadConfig>& config,
                    const LossyOptions& lossy, MoeObserver* downstream = nullptr);
  ~OffloadAttachment();
  OffloadAttachment(const OffloadAttachment&) = delete;
  OffloadAttachment& operator=(const OffloadAttachment&) = delete;

  ExpertStore* store() const { return store_.get(); }
  // The lossy variants' counters, from the store or the store-less gating (zero without either).
  LossyCounters lossy_counters() const;

 private:
  Model& model_;
  MoeObserver* previous_observer_;
  std::unique_ptr<ExpertStore> store_;
  std::unique_ptr<LossyGating> lossy_;  // adaptive top-k without a store
};

}  // namespace moescope::offload
