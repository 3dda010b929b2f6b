#include "views/session/generation_job.h"

#include <optional>
#include <utility>

#include "engine/common/error.h"
#include "engine/policy/prefetcher.h"
#include "storage/session/generation_session.h"
#include "views/session/session_config.h"
#include "views/session/special_token.h"

namespace moescope::views {
namespace {

TokenInfo make_token(const tokenizer::Tokenizer& tok, int32_t id, std::string_view text,
                     bool generated, double elapsed_ms) {
  TokenInfo t;
  t.id = id;
  t.generated = generated;
  t.elapsed_ms = elapsed_ms;
  t.text = QString::fromUtf8(text.data(), qsizetype(text.size()));
  classify_token(tok, t);
  return t;
}

// The router probe the prefetcher a spec names asks for, or nothing.
std::optional<policy::RouterProbeRequest> router_probe_of(const QString& spec) {
  try {
    return policy::prediction_inputs(spec.toStdString()).router_probe;
  } catch (const Error&) {
    return std::nullopt;  // the store reports the bad spelling
  }
}

// The engine thread's side of the session pipeline: the prompt and every token go into the
// RunRecorder (which also hears the routing, behind the store and the trace), the store's stall
// becomes the recorder's stall source.
class JobListener final : public storage::SessionListener {
 public:
  JobListener(GenerationJob& job, const tokenizer::Tokenizer& tok) : job_(job), tok_(tok) {}

  MoeObserver* routing_observer() override { return &job_.recorder; }
  void on_store(const offload::ExpertStore& store) override {
    const offload::ExpertStore* s = &store;
    job_.recorder.set_stall_source([s] { return s->stats().stall_ns; });
    job_.offloaded = true;
  }
  void on_prompt(int64_t, const storage::PromptText& prompt) override {
    for (size_t i = 0; i < prompt.ids.size(); ++i)
      job_.recorder.add_token(make_token(tok_, prompt.ids[i], prompt.pieces[i], false, 0.0));
    if (!prompt.tail.empty()) job_.recorder.add_tail_text(QString::fromStdString(prompt.tail));
  }
  void on_token(int64_t, const TokenEvent& ev) override {
    if (ev.id < 0) {
      job_.recorder.add_tail_text(QString::fromUtf8(ev.text.data(), qsizetype(ev.text.size())));
    } else {
      job_.recorder.add_token(make_token(tok_, ev.id, ev.text, true, ev.elapsed_ms));
    }
  }

 private:
  GenerationJob& job_;
  const tokenizer::Tokenizer& tok_;
};

}  // namespace

GenerationJob::GenerationJob(uint64_t job_id, std::shared_ptr<LoadedModel> loaded,
                             RunSettings run_settings)
    : id(job_id),
      model(std::move(loaded)),
      settings(std::move(run_settings)),
      recorder(model->shape, model->gating) {}

void GenerationJob::run() {
  try {
    Model& m = *model->model;
    // next-gate predictions only the engine can make: keep them for the analysis' replay.
    if (const auto probe = router_probe_of(settings.cache.prefetcher)) {
      recorder.enable_next_gate(m, probe->distance, probe->k_prime, model->shape.top_k);
    }
    storage::GenerationRequest request;
    request.prompt = settings.prompt.toStdString();
    request.options = settings.generation;
    storage::GenerationSession session(m, *model->tokenizer, session_config(*model, settings));
    JobListener listener(*this, *model->tokenizer);
    stats = session.run(request, listener, &cancel).request.generation.stats;
    if (const offload::ExpertStore* store = session.store()) {
      live_decisions = store->decisions();
      store_stats = store->stats();
    }
    ok = true;
  } catch (const Error& e) {
    error = QString::fromUtf8(e.what());
  } catch (const std::exception& e) {
    error = QString::fromUtf8(e.what());
  }
}

}  // namespace moescope::views
