#include "storage/session/generation_session.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <utility>

#include "engine/batching/workload.h"
#include "engine/common/error.h"
#include "engine/model/routing.h"
#include "engine/model/text_stream.h"
#include "engine/policy/prefetcher.h"
#include "storage/session/trace_recording.h"

namespace moescope::storage {
namespace {

// The router probe the prefetcher a spec names asks for, or nothing (also for a bad spelling,
// which the store or the writer reports).
std::optional<policy::RouterProbeRequest> router_probe_of(const std::string& spec) {
  try {
    return policy::prediction_inputs(spec).router_probe;
  } catch (const Error&) {
    return std::nullopt;
  }
}

}  // namespace

std::vector<std::string> PromptText::closed_pieces() const {
  std::vector<std::string> out = pieces;
  if (!out.empty()) out.back() += tail;
  return out;
}

std::string generation_summary_json(const GenerationStats& st) {
  const nlohmann::json summary{{"stop_reason", std::string(stop_reason_name(st.stop_reason))},
                               {"stopped_by_user", st.stop_reason == StopReason::kCancelled},
                               {"prompt_tokens", st.n_prompt},
                               {"generated_tokens", st.n_generated},
                               {"decoded_tokens", st.n_decoded},
                               {"prefill_ms", st.prefill_ms},
                               {"decode_ms", st.decode_ms},
                               {"prefill_tokens_per_s", st.prefill_tokens_per_second()},
                               {"decode_tokens_per_s", st.decode_tokens_per_second()},
                               {"first_token_ms", st.first_token_ms}};
  return summary.dump();
}

void GenerationSession::ObserverRelay::on_forward_begin(TokenPos first, int n_tokens) {
  if (target_ != nullptr) target_->on_forward_begin(first, n_tokens);
}

void GenerationSession::ObserverRelay::on_routing(const MoeRoutingEvent& event) {
  if (target_ != nullptr) target_->on_routing(event);
}

void GenerationSession::ObserverRelay::on_forward_end() {
  if (target_ != nullptr) target_->on_forward_end();
}

GenerationSession::GenerationSession(Model& model, const tokenizer::Tokenizer& tok,
                                     SessionConfig config)
    : model_(model), tok_(tok), config_(std::move(config)) {}

GenerationSession::~GenerationSession() = default;

PromptText GenerationSession::tokenize(const GenerationRequest& request) const {
  PromptText prompt;
  prompt.ids = Generator(model_, tok_).tokenize_prompt(request.prompt, request.parse_special);
  // The generator checks these too, but a recording must fail before it creates the trace.
  if (prompt.ids.empty()) fail("the prompt is empty");
  if (int64_t(prompt.ids.size()) > model_.n_ctx()) {
    fail("prompt has {} tokens but the context holds {} (--ctx)", prompt.ids.size(),
         model_.n_ctx());
  }
  TextStream text;
  for (int32_t id : prompt.ids) prompt.pieces.push_back(text.push(tok_.token_piece(id, false)));
  prompt.tail = text.finish();
  return prompt;
}

void GenerationSession::attach(SessionListener& listener) {
  attachment_.reset();  // a previous run's
  relay_.set_target(listener.routing_observer());
  attachment_ =
      std::make_unique<offload::OffloadAttachment>(model_, config_.offload, config_.lossy, &relay_);
  if (attachment_->store() != nullptr) listener.on_store(*attachment_->store());
}

std::unique_ptr<TraceRecording> GenerationSession::open_recording(const GenerationRequest& request,
                                                                  const PromptText& prompt,
                                                                  SessionListener& listener) {
  if (!config_.recording) return nullptr;
  const RecordingConfig& rc = *config_.recording;
  auto recording =
      std::make_unique<TraceRecording>(rc.trace, rc.info, rc.router_logits, request.prompt,
                                       prompt.ids, prompt.closed_pieces(), tok_);
  register_cache(*recording, listener);
  return recording;
}

std::unique_ptr<TraceRecording> GenerationSession::open_batch_recording(
    std::span<const GenerationRequest> requests, std::span<const PromptText> prompts,
    SessionListener& listener) {
  if (!config_.recording) return nullptr;
  const RecordingConfig& rc = *config_.recording;
  auto recording = std::make_unique<TraceRecording>(rc.trace, rc.info, rc.router_logits, tok_);
  for (size_t i = 0; i < requests.size(); ++i) {
    recording->add_request(static_cast<int32_t>(i), requests[i].prompt, prompts[i].closed_pieces(),
                           requests[i].source_json);
  }
  register_cache(*recording, listener);
  return recording;
}

void GenerationSession::register_cache(TraceRecording& recording, SessionListener& listener) {
  const RecordingConfig& rc = *config_.recording;
  recording.observer().set_next(listener.routing_observer());
  // Next-gate predictions only the engine can make: the trace keeps them so that a replay
  // prefetches what the live run prefetched.
  std::vector<std::string> prefetchers;
  if (config_.offload) prefetchers.push_back(config_.offload->prefetcher);
  for (const PolicyDescription& d : rc.simulated) prefetchers.push_back(d.prefetcher);
  for (const std::string& spec : prefetchers) {
    if (const auto probe = router_probe_of(spec)) {
      recording.observer().enable_next_gate(model_, probe->distance, probe->k_prime);
      break;
    }
  }
  if (const offload::ExpertStore* store = attachment_->store()) {
    recording.attach_store(*store, *config_.offload);
  } else {
    recording.simulate(rc.simulated);
  }
  relay_.set_target(&recording.observer());
  recording.start();
}

GenerationResult GenerationSession::generate(const GenerationRequest& request,
                                             const PromptText& prompt, TraceRecording* recording,
                                             SessionListener& listener,
                                             const std::atomic<bool>* cancel) {
  listener.on_prompt(request.id, prompt);
  GenerationResult result = Generator(model_, tok_)
                                .generate(
                                    prompt.ids, request.options,
                                    [&](const TokenEvent& event) {
                                      if (recording != nullptr) recording->token(event);
                                      listener.on_token(request.id, event);
                                    },
                                    cancel);
  const GenerationStats& st = result.stats;
  if (st.stop_reason == StopReason::kEndOfGeneration && !result.tokens.empty()) {
    // The generator does not stream the end-of-generation token; the trace has its row.
    const TokenEvent eog{result.tokens.back(), st.n_generated - 1, {}, st.total_ms};
    if (recording != nullptr) recording->token(eog);
    listener.on_token(request.id, eog);
  }
  return result;
}

SessionResult GenerationSession::run(const GenerationRequest& request, SessionListener& listener,
                                     const std::atomic<bool>* cancel) {
  SessionResult out;
  out.request.id = request.id;
  out.request.prompt = tokenize(request);
  attach(listener);
  std::unique_ptr<TraceRecording> recording = open_recording(request, out.request.prompt, listener);
  try {
    out.request.generation =
        generate(request, out.request.prompt, recording.get(), listener, cancel);
  } catch (...) {
    relay_.set_target(nullptr);
    throw;
  }
  relay_.set_target(nullptr);
  if (recording) {
    recording->finish(generation_summary_json(out.request.generation.stats));
    out.recording = SessionRecording{recording->run_id(), recording->path(),
                                     recording->primary_policy(), recording->shadow_policies()};
  }
  return out;
}

}  // namespace moescope::storage

namespace moescope::storage {
namespace {

// The batched engine's events, passed on to the recording and the front end's listener.
class BatchStream final : public batching::BatchListener {
 public:
  BatchStream(std::span<const GenerationRequest> requests, TraceRecording* recording,
              SessionListener& listener)
      : requests_(requests), recording_(recording), listener_(listener) {}

  void on_step(int64_t /*step*/, std::span<const batching::StepRow> rows) override {
    if (recording_ != nullptr) recording_->step(rows);
  }
  void on_token(RequestId request, const TokenEvent& event) override {
    if (recording_ != nullptr) recording_->sampled(request.value, event);
    listener_.on_token(requests_[size_t(request.value)].id, event);
  }

 private:
  std::span<const GenerationRequest> requests_;
  TraceRecording* recording_;
  SessionListener& listener_;
};

// Installs the capacity-aware gating for the scope of a batched run.
class CapacityScope {
 public:
  CapacityScope(Model& model, const std::optional<batching::CapacityOptions>& options)
      : model_(model) {
    if (!options) return;
    if (model.routing_override() != nullptr) {
      fail("capacity-aware gating does not combine with another lossy gating variant");
    }
    gating_ = std::make_unique<batching::CapacityGating>(*options, routing_params(model.hparams()));
    model.set_routing_override(gating_.get());
  }
  ~CapacityScope() {
    if (gating_ && model_.routing_override() == gating_.get()) model_.set_routing_override(nullptr);
  }
  CapacityScope(const CapacityScope&) = delete;
  CapacityScope& operator=(const CapacityScope&) = delete;
  const batching::CapacityGating* gating() const { return gating_.get(); }

 private:
  Model& model_;
  std::unique_ptr<batching::CapacityGating> gating_;
};

}  // namespace

std::string batch_summary_json(const BatchSessionResult& r, int64_t n_expert) {
  const batching::WorkloadSummary w =
      batching::summarize(r.requests, r.steps, r.total_ms, std::max<int64_t>(n_expert, 1));
  nlohmann::json requests = nlohmann::json::array();
  for (const batching::RequestResult& q : r.requests) {
    requests.push_back({{"id", q.id.value},
                        {"stop_reason", std::string(stop_reason_name(q.stop_reason))},
                        {"finished", q.finished},
                        {"prompt_tokens", q.prompt.size()},
                        {"generated_tokens", q.tokens.size()},
                        {"ttft_ms", q.ttft_ms()},
                        {"tpot_ms", q.tpot_ms()},
                        {"steps", q.steps}});
  }
  nlohmann::json summary{{"batched", true},
                         {"requests", requests},
                         {"steps", r.steps.size()},
                         {"total_ms", r.total_ms},
                         {"generated_tokens", w.generated_tokens},
                         {"tokens_per_s", w.tokens_per_s},
                         {"decode_tokens_per_s", w.decode_tokens_per_s},
                         {"ttft_ms_p50", w.ttft_p50},
                         {"ttft_ms_p95", w.ttft_p95},
                         {"tpot_ms_p50", w.tpot_p50},
                         {"tpot_ms_p95", w.tpot_p95},
                         {"distinct_experts_per_layer", w.mean_distinct_experts},
                         {"straggler_per_layer", w.mean_straggler}};
  if (!r.capacity.empty()) {
    const batching::CapacityTotals c = batching::capacity_totals(r.capacity);
    summary["capacity"] = {{"lossy", true},
                           {"routings", c.routings},
                           {"dropped_fraction", c.dropped_fraction()},
                           {"rerouted_fraction", c.rerouted_fraction()},
                           {"mean_straggler_before", c.mean_straggler_before},
                           {"mean_straggler_after", c.mean_straggler_after}};
  }
  return summary.dump();
}

BatchSessionResult GenerationSession::run_batch(std::span<const GenerationRequest> requests,
                                                const BatchConfig& batch, SessionListener& listener,
                                                const std::atomic<bool>* cancel) {
  if (requests.empty()) fail("a batched run needs at least one request");
  if (!batch.arrival_s.empty() && batch.arrival_s.size() != requests.size()) {
    fail("{} arrival times for {} requests", batch.arrival_s.size(), requests.size());
  }
  BatchSessionResult out;
  for (const GenerationRequest& request : requests) {
    try {
      out.prompts.push_back(tokenize(request));
    } catch (const Error& e) {
      fail("request {}: {}", request.id, e.what());
    }
  }
  attach(listener);
  CapacityScope capacity(model_, batch.capacity);
  std::unique_ptr<TraceRecording> recording = open_batch_recording(requests, out.prompts, listener);
  // Capacity-aware gating chooses among each token's top-(k·m): the trace keeps every token's
  // top-2k router probabilities, so that the choice can be studied (and redone) from it.
  if (recording && capacity.gating() != nullptr) {
    recording->observer().enable_router_candidates(routing_params(model_.hparams()).gating);
  }
  try {
    for (size_t i = 0; i < requests.size(); ++i) listener.on_prompt(requests[i].id, out.prompts[i]);
    BatchStream stream(requests, recording.get(), listener);
    batching::BatchEngine engine(model_, tok_, batch.engine);
    engine.set_listener(&stream);
    std::vector<std::vector<int32_t>> ids;
    std::vector<GenerationOptions> options;
    for (size_t i = 0; i < requests.size(); ++i) {
      ids.push_back(out.prompts[i].ids);
      options.push_back(requests[i].options);
    }
    const std::vector<double> at =
        batch.arrival_s.empty() ? std::vector<double>(requests.size(), 0.0) : batch.arrival_s;
    out.total_ms = batching::run_workload(engine, ids, at, options, cancel);
    out.requests = engine.results();
    out.steps = engine.steps();
  } catch (...) {
    relay_.set_target(nullptr);
    throw;
  }
  relay_.set_target(nullptr);
  if (capacity.gating() != nullptr) out.capacity = capacity.gating()->records();
  if (recording) {
    recording->finish(batch_summary_json(out, model_.hparams().n_expert));
    out.recording = SessionRecording{recording->run_id(), recording->path(),
                                     recording->primary_policy(), recording->shadow_policies()};
  }
  return out;
}

}  // namespace moescope::storage
