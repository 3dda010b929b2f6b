#include "views/session/generation_job.h"

#include <optional>
#include <utility>

#include "engine/common/error.h"
#include "engine/model/text_stream.h"
#include "engine/policy/policy_factory.h"
#include "engine/policy/prefetcher.h"
#include "engine/tokenizer/vocab.h"
#include "views/session/run_recording.h"
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

bool is_history_policy(const QString& spec) {
  try {
    return policy::parse_policy_spec(spec.toStdString()).needs_history;
  } catch (const Error&) {
    return false;  // the store reports the bad spelling
  }
}

// Restores the model's provider and observer however the generation ends.
class Attachment {
 public:
  Attachment(Model& model, std::unique_ptr<offload::ExpertStore> store)
      : model_(model), store_(std::move(store)) {}
  ~Attachment() {
    if (store_) store_->detach(model_);
    model_.set_observer(nullptr);
  }
  offload::ExpertStore* store() const { return store_.get(); }

 private:
  Model& model_;
  std::unique_ptr<offload::ExpertStore> store_;
};

}  // namespace

GenerationJob::GenerationJob(uint64_t job_id, std::shared_ptr<LoadedModel> loaded,
                             RunSettings run_settings)
    : id(job_id),
      model(std::move(loaded)),
      settings(std::move(run_settings)),
      recorder(model->moe_index, model->shape.n_layers(), model->gating) {}

void GenerationJob::run() {
  try {
    Model& m = *model->model;
    const tokenizer::Tokenizer& tok = *model->tokenizer;
    Generator generator(m, tok);
    const std::vector<int32_t> prompt = generator.tokenize_prompt(settings.prompt.toStdString());

    // Prompt tokens as text: complete characters only, like the generated text.
    TextStream prompt_text;
    std::vector<std::string> pieces;
    for (int32_t id : prompt) {
      const std::string text = prompt_text.push(tok.token_piece(id, false));
      pieces.push_back(text);
      recorder.add_token(make_token(tok, id, text, false, 0.0));
    }
    const std::string rest = prompt_text.finish();
    if (!rest.empty()) {
      recorder.add_tail_text(QString::fromStdString(rest));
      if (!pieces.empty()) pieces.back() += rest;
    }

    // next-gate predictions only the engine can make: keep them for the analysis' replay.
    if (const auto probe = router_probe_of(settings.cache.prefetcher)) {
      recorder.enable_next_gate(m, probe->distance, probe->k_prime, model->shape.top_k);
    }
    std::unique_ptr<RunRecording> recording;
    if (!settings.trace_path.isEmpty()) {
      recording = std::make_unique<RunRecording>(*model, settings, prompt, pieces);
    }
    // Observer chain: [expert store] -> [trace recording] -> recorder.
    MoeObserver* downstream = recording ? recording->observer(&recorder) : &recorder;
    std::unique_ptr<offload::ExpertStore> store;
    if (settings.cache.offload) {
      offload::OffloadConfig config = offload_config(settings.cache, model->shape);
      if (recording) {
        for (const QString& spec : settings.cache.compare) {
          if (spec != settings.cache.policy && !is_history_policy(spec)) {
            config.compare.push_back({spec.toStdString(), config.prefetcher});
          }
        }
      }
      store = offload::ExpertStore::attach(m, config, downstream);
      offload::ExpertStore* s = store.get();
      recorder.set_stall_source([s] { return s->stats().stall_ns; });
      if (recording) recording->set_store(*store, config);
      offloaded = true;
    } else {
      m.set_observer(downstream);
    }
    Attachment attachment(m, std::move(store));

    const GenerationResult result = generator.generate(
        prompt, settings.generation,
        [&](const TokenEvent& ev) {
          if (recording) recording->token(ev);
          if (ev.id < 0) {
            recorder.add_tail_text(QString::fromUtf8(ev.text.data(), qsizetype(ev.text.size())));
          } else {
            recorder.add_token(make_token(tok, ev.id, ev.text, true, ev.elapsed_ms));
          }
        },
        &cancel);
    stats = result.stats;
    if (stats.stop_reason == StopReason::kEndOfGeneration && !result.tokens.empty()) {
      // The generator does not stream the end-of-generation token; the run shows it.
      const TokenInfo eog = make_token(tok, result.tokens.back(), {}, true, stats.total_ms);
      if (recording) {
        const std::string text = eog.text.toStdString();
        recording->token({eog.id, stats.n_generated - 1, text, stats.total_ms});
      }
      recorder.add_token(eog);
    }
    if (recording) recording->finish();
    if (attachment.store()) {
      live_decisions = attachment.store()->decisions();
      store_stats = attachment.store()->stats();
    }
    ok = true;
  } catch (const Error& e) {
    error = QString::fromUtf8(e.what());
  } catch (const std::exception& e) {
    error = QString::fromUtf8(e.what());
  }
}

}  // namespace moescope::views
