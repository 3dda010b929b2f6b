#pragma once
// What a front end hears from the session pipeline (generation_session.h) while it runs, on the
// thread that runs it. Plain callbacks: the CLI prints, the GUI copies into its RunRecorder and
// signals its own thread. Every method has an empty default.
#include <cstdint>

#include "engine/model/generator.h"
#include "engine/model/moe_observer.h"
#include "engine/offload/expert_store.h"
#include "storage/session/generation_request.h"

namespace moescope::storage {

class SessionListener {
 public:
  virtual ~SessionListener() = default;

  // Hears every routing event after the expert store and the recording (the GUI's live
  // heatmaps); null: nobody. Asked once per run, before the model runs.
  virtual MoeObserver* routing_observer() { return nullptr; }
  // The expert store, once attached and before the first forward call.
  virtual void on_store(const offload::ExpertStore& /*store*/) {}
  // A request's prompt, tokenized, before its first forward call.
  virtual void on_prompt(int64_t /*request*/, const PromptText& /*prompt*/) {}
  // A generated token as it streams (id -1: the final flush of held-back text). The
  // end-of-generation token, which the generator does not stream, comes last, with no text.
  virtual void on_token(int64_t /*request*/, const TokenEvent& /*event*/) {}
};

}  // namespace moescope::storage
