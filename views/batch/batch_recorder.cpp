#include "views/batch/batch_recorder.h"

#include <utility>

#include "engine/offload/expert_store.h"

namespace moescope::views {

BatchRecorder::BatchRecorder(BatchRun run) : accumulator_(run.shape), run_(std::move(run)) {}

BatchRequest* BatchRecorder::request(int64_t id) {
  for (BatchRequest& r : run_.requests) {
    if (r.id == id) return &r;
  }
  return nullptr;
}

void BatchRecorder::on_prompt(int64_t id, const storage::PromptText& prompt) {
  std::lock_guard lock(mu_);
  if (BatchRequest* r = request(id)) r->prompt_tokens = int(prompt.ids.size());
  changed_ = true;
}

void BatchRecorder::on_token(int64_t id, const TokenEvent& event) {
  std::lock_guard lock(mu_);
  BatchRequest* r = request(id);
  if (r == nullptr) return;
  r->generated += QString::fromUtf8(event.text.data(), qsizetype(event.text.size()));
  if (event.id >= 0) {
    ++r->generated_tokens;
    r->state = RequestState::kRunning;
  }
  changed_ = true;
}

int64_t BatchRecorder::store_bytes() const {
  return store_ != nullptr ? store_->decisions().total().bytes_loaded : -1;
}

void BatchRecorder::on_forward_begin(TokenPos /*first*/, int n_tokens) {
  int64_t step = 0;
  {
    std::lock_guard lock(mu_);
    step = int64_t(run_.steps.size());
  }
  accumulator_.begin(step, n_tokens);
  bytes_before_ = store_bytes();
  started_ = std::chrono::steady_clock::now();
}

void BatchRecorder::on_routing(const MoeRoutingEvent& event) {
  if (const auto layer = run_.shape.moe_layer(event.layer)) {
    accumulator_.add(layer->value, event.experts);
  }
}

void BatchRecorder::on_forward_end() {
  BatchStep step = accumulator_.end();
  // The store decides a step's loads while the layers run: its counter has moved by this step's
  // bytes once the call ended (the store hears the end before this listener).
  if (store_ != nullptr) step.bytes = store_bytes() - bytes_before_;
  step.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started_)
                .count();
  std::lock_guard lock(mu_);
  run_.steps.push_back(std::move(step));
  changed_ = true;
}

void BatchRecorder::finish(const storage::BatchSessionResult& result, bool cancelled) {
  std::lock_guard lock(mu_);
  for (size_t i = 0; i < result.requests.size() && i < run_.requests.size(); ++i) {
    const batching::RequestResult& q = result.requests[i];
    BatchRequest& r = run_.requests[i];
    r.generated_tokens = int(q.tokens.size());
    r.state = q.finished ? RequestState::kFinished : RequestState::kStopped;
    r.stop_reason = q.finished
                        ? QString::fromStdString(std::string(stop_reason_name(q.stop_reason)))
                        : QString();
    r.ttft_ms = q.first_token_ms >= 0 ? q.ttft_ms() : -1;
    r.tpot_ms = q.tokens.size() >= 2 ? q.tpot_ms() : -1;
  }
  // The engine's own step records: how many requests each step took, and its time.
  for (size_t s = 0; s < result.steps.size() && s < run_.steps.size(); ++s) {
    run_.steps[s].requests = result.steps[s].requests;
    run_.steps[s].ms = result.steps[s].ms;
  }
  run_.total_ms = result.total_ms;
  run_.complete = !cancelled;
  changed_ = true;
}

std::optional<BatchRun> BatchRecorder::take_if_changed() {
  std::lock_guard lock(mu_);
  if (!changed_) return std::nullopt;
  changed_ = false;
  return run_;
}

}  // namespace moescope::views
