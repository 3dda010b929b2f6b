#include "views/session/run_recording.h"

#include "engine/common/error.h"
#include "engine/policy/allocators.h"
#include "engine/policy/policy_factory.h"
#include "engine/policy/prefetcher.h"
#include "storage/run_info.h"
#include "storage/token_kind.h"

namespace moescope::views {

RunRecording::RunRecording(const LoadedModel& model, const RunSettings& settings,
                           const std::vector<int32_t>& prompt,
                           const std::vector<std::string>& pieces)
    : settings_(settings), model_(model) {
  // The full router logits too: a reopened run shows the same router entropy as the live one.
  storage::WriterOptions options;
  options.router_logits = true;
  writer_ = std::make_unique<storage::TraceWriter>(settings.trace_path.toStdString(), options);
  storage::RunInfo info;
  info.label = "moescope GUI";
  info.model = storage::describe_model(*model.model, /*with_hash=*/false);
  info.seed = settings.generation.sampling.seed;
  const offload::OffloadConfig config = offload_config(settings.cache, model.shape);
  ModelOptions model_options;
  info.settings_json = storage::settings_json(model_options, settings.generation,
                                              settings.cache.offload ? &config : nullptr);
  writer_->begin_run(std::move(info));
  writer_->prompt(settings.prompt.toStdString(), prompt, pieces,
                  storage::token_kinds(*model.tokenizer, prompt));
  if (!settings.cache.offload) {
    // No real cache: the chosen policy (with cache events) and the online compared ones are
    // simulated on the recorded routing.
    const policy::Budget budget = policy::Budget::slots(budget_slots(settings.cache, model.shape));
    const policy::AllocatorKind allocator =
        policy::parse_allocator(settings.cache.allocator.toStdString());
    QStringList specs = {settings.cache.policy};
    for (const QString& s : settings.cache.compare) {
      if (!specs.contains(s)) specs << s;
    }
    for (const QString& text : specs) {
      const policy::PolicySpec spec = policy::parse_policy_spec(text.toStdString());
      if (spec.oracle || spec.needs_history) continue;
      storage::PolicyDescription d;
      d.primary = text == settings.cache.policy;
      d.spec = spec.text;
      d.prefetcher = settings.cache.prefetcher.toStdString();
      d.capacity = policy::make_capacity(spec.pool, budget, model.shape, allocator);
      d.timing.link = config.link;
      d.measured_compute = false;
      writer_->simulate_policy(d, {}, /*cache_events=*/d.primary);
    }
  }
}

RunRecording::~RunRecording() = default;

MoeObserver* RunRecording::observer(MoeObserver* next) {
  observer_ = std::make_unique<storage::TraceObserver>(*writer_);
  observer_->set_next(next);
  // A run whose prefetcher asks for router probes keeps them: a reopened run replays them.
  try {
    const std::string spec = settings_.cache.prefetcher.toStdString();
    if (const auto probe = policy::prediction_inputs(spec).router_probe) {
      observer_->enable_next_gate(*model_.model, probe->distance, probe->k_prime);
    }
  } catch (const Error&) {
    // the expert store reports a bad spelling
  }
  return observer_.get();
}

void RunRecording::set_store(const offload::ExpertStore& store,
                             const offload::OffloadConfig& config) {
  const offload::ExpertStore* s = &store;
  observer_->set_stall_clock([s] { return s->stats().stall_ns; });
  store_recording_ = std::make_unique<storage::StoreRecording>(*writer_, store, config);
}

void RunRecording::token(const TokenEvent& event) {
  writer_->generated(event, event.id < 0 ? storage::TokenKind::kNotRecorded
                                         : storage::token_kind(*model_.tokenizer, event.id));
}

void RunRecording::finish() {
  if (finished_) return;
  finished_ = true;
  if (store_recording_) store_recording_->finish();
  writer_->finish_run();
}

}  // namespace moescope::views
