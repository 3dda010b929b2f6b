#include "storage/session/generation_session.h"

#include <nlohmann/json.hpp>

#include <utility>

#include "engine/common/error.h"
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
  recording->observer().set_next(listener.routing_observer());
  // Next-gate predictions only the engine can make: the trace keeps them so that a replay
  // prefetches what the live run prefetched.
  std::vector<std::string> prefetchers;
  if (config_.offload) prefetchers.push_back(config_.offload->prefetcher);
  for (const PolicyDescription& d : rc.simulated) prefetchers.push_back(d.prefetcher);
  for (const std::string& spec : prefetchers) {
    if (const auto probe = router_probe_of(spec)) {
      recording->observer().enable_next_gate(model_, probe->distance, probe->k_prime);
      break;
    }
  }
  if (const offload::ExpertStore* store = attachment_->store()) {
    recording->attach_store(*store, *config_.offload);
  } else {
    recording->simulate(rc.simulated);
  }
  relay_.set_target(&recording->observer());
  recording->start();
  return recording;
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
