#include "engine/batching/batch_engine.h"

#include <algorithm>
#include <chrono>

#include "engine/common/error.h"
#include "engine/model/model.h"
#include "engine/model/sampler.h"
#include "engine/model/text_stream.h"
#include "engine/tokenizer/tokenizer.h"

namespace moescope::batching {
namespace {

int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

double RequestResult::tpot_ms() const {
  const auto n = static_cast<int64_t>(tokens.size());
  return n >= 2 ? (last_token_ms - first_token_ms) / double(n - 1) : 0.0;
}

// One request's sequence: its KV cache, sampler and text, and where it is.
struct BatchEngine::Sequence {
  Sequence(Model& model, RequestResult r, const GenerationOptions& o)
      : state(model.new_state()),
        options(o),
        sampler(o.sampling),
        text(o.stop),
        result(std::move(r)) {}

  std::unique_ptr<InferenceState> state;
  GenerationOptions options;
  Sampler sampler;
  TextStream text;
  RequestResult result;
  size_t prefilled = 0;  // prompt tokens forwarded
  int32_t pending = -1;  // the sampled token to forward next (decode)
  int64_t waiting_since = 0;
  std::vector<uint8_t> route;  // [n_layer * n_expert] experts its rows used in its last step

  bool prefilling() const { return prefilled < result.prompt.size(); }
  size_t chunk() const {
    return prefilling() ? std::min<size_t>(options.n_batch, result.prompt.size() - prefilled) : 1;
  }
};

// Passes every routing event on, and keeps per step the tokens each (layer, expert) ran and per
// request the experts its rows used. Rows are numbered from the call's first position.
class BatchEngine::RouteCollector final : public MoeObserver {
 public:
  RouteCollector(int64_t n_layer, int64_t n_expert, MoeObserver* next)
      : n_layer_(n_layer), n_expert_(n_expert), next_(next) {}

  int64_t n_layer() const { return n_layer_; }
  int64_t n_expert() const { return n_expert_; }

  // rows[r] = the route vector of row r's request (cleared here).
  void begin_step(std::vector<std::vector<uint8_t>*> rows) {
    rows_ = std::move(rows);
    for (auto* route : rows_) route->assign(n_layer_ * n_expert_, 0);
    counts_.assign(n_layer_ * n_expert_, 0);
  }
  void on_forward_begin(TokenPos first, int n_tokens) override {
    first_ = first.value;
    if (next_ != nullptr) next_->on_forward_begin(first, n_tokens);
  }
  void on_routing(const MoeRoutingEvent& event) override {
    const int32_t row = event.pos.value - first_;
    const int64_t base = int64_t(event.layer.value) * n_expert_;
    for (ExpertId e : event.experts) {
      ++counts_[base + e.value];
      if (row >= 0 && size_t(row) < rows_.size()) (*rows_[row])[base + e.value] = 1;
    }
    if (next_ != nullptr) next_->on_routing(event);
  }
  void on_forward_end() override {
    if (next_ != nullptr) next_->on_forward_end();
  }

  void fill(StepStats& stats) const {
    stats.distinct_experts.assign(n_layer_, 0);
    stats.max_tokens_per_expert.assign(n_layer_, 0);
    stats.routings.assign(n_layer_, 0);
    for (int64_t l = 0; l < n_layer_; ++l) {
      for (int64_t e = 0; e < n_expert_; ++e) {
        const int32_t c = counts_[l * n_expert_ + e];
        stats.distinct_experts[l] += c > 0;
        stats.max_tokens_per_expert[l] = std::max(stats.max_tokens_per_expert[l], c);
        stats.routings[l] += c;
      }
    }
  }

 private:
  int64_t n_layer_, n_expert_;
  MoeObserver* next_;
  int32_t first_ = 0;
  std::vector<std::vector<uint8_t>*> rows_;
  std::vector<int32_t> counts_;  // [n_layer][n_expert] tokens this step
};

BatchEngine::BatchEngine(Model& model, const tokenizer::Tokenizer& tokenizer, BatchOptions options)
    : model_(model), tokenizer_(tokenizer), options_(std::move(options)) {
  if (options_.limits.max_batch < 1) {
    fail("the maximum batch must be at least 1 request, got {}", options_.limits.max_batch);
  }
  if (options_.limits.max_tokens < 1) {
    fail("the maximum tokens per step must be at least 1, got {}", options_.limits.max_tokens);
  }
  scheduler_ = make_scheduler(options_.scheduler);
  previous_observer_ = model_.observer();
  const ModelHParams& hp = model_.hparams();
  collector_ = std::make_unique<RouteCollector>(hp.n_layer, std::max<int64_t>(hp.n_expert, 1),
                                                previous_observer_);
  model_.set_observer(collector_.get());
  start_ns_ = steady_ns();
}

BatchEngine::~BatchEngine() {
  model_.set_observer(previous_observer_);
}

double BatchEngine::now_ms() const {
  return double(steady_ns() - start_ns_) / 1e6;
}

RequestId BatchEngine::submit(std::vector<int32_t> prompt, const GenerationOptions& options) {
  if (prompt.empty()) fail("the prompt is empty: there is nothing to continue from");
  if (static_cast<int64_t>(prompt.size()) > model_.n_ctx()) {
    fail("prompt has {} tokens but the context holds {}", prompt.size(), model_.n_ctx());
  }
  if (options.n_batch < 1) fail("the batch size must be at least 1, got {}", options.n_batch);
  if (std::min<int64_t>(options.n_batch, int64_t(prompt.size())) > options_.limits.max_tokens) {
    fail("a prompt chunk of {} tokens does not fit a step of at most {} tokens", options.n_batch,
         options_.limits.max_tokens);
  }
  RequestResult r;
  r.id = RequestId(static_cast<int32_t>(sequences_.size()));
  r.prompt = std::move(prompt);
  r.arrival_ms = now_ms();
  auto s = std::make_unique<Sequence>(model_, std::move(r), options);
  s->waiting_since = static_cast<int64_t>(steps_.size());
  sequences_.push_back(std::move(s));
  return sequences_.back()->result.id;
}

bool BatchEngine::active() const {
  return std::any_of(sequences_.begin(), sequences_.end(),
                     [](const auto& s) { return !s->result.finished; });
}

std::vector<Candidate> BatchEngine::candidates(std::vector<Sequence*>& order) const {
  std::vector<Candidate> out;
  for (const auto& s : sequences_) {
    if (s->result.finished) continue;
    order.push_back(s.get());
    out.push_back(Candidate{s->result.id, static_cast<int64_t>(s->chunk()), s->result.id.value,
                            s->waiting_since, s->route});
  }
  return out;
}

bool BatchEngine::step() {
  std::vector<Sequence*> active;
  const std::vector<Candidate> cands = candidates(active);
  if (active.empty()) return false;
  const int64_t t0 = steady_ns();
  std::vector<size_t> picked = scheduler_->pick(cands, options_.limits);
  if (picked.empty()) fail("the scheduler picked no request for the step");
  std::sort(picked.begin(), picked.end());  // submission order: deterministic rows
  std::vector<Sequence*> batch;
  for (size_t i : picked) batch.push_back(active.at(i));

  StepStats stats;
  stats.step = static_cast<int64_t>(steps_.size());
  forward(batch, stats);
  const auto n_vocab = static_cast<size_t>(model_.n_vocab());
  for (size_t i = 0; i < batch.size(); ++i) {
    Sequence* s = batch[i];
    s->waiting_since = stats.step + 1;
    ++s->result.steps;
    if (s->prefilling()) continue;                            // more prompt chunks to go
    if (s->pending < 0) s->sampler.accept(s->result.prompt);  // the prompt just completed
    sample_next(*s, std::span<const float>(logits_).subspan(i * n_vocab, n_vocab));
  }
  stats.ms = double(steady_ns() - t0) / 1e6;
  steps_.push_back(std::move(stats));
  return true;
}

void BatchEngine::forward(const std::vector<Sequence*>& batch, StepStats& stats) {
  std::vector<SequenceTokens> seqs;
  std::vector<std::vector<uint8_t>*> rows;
  std::vector<StepRow> plan;
  for (Sequence* s : batch) {
    const size_t n = s->chunk();
    std::span<const int32_t> tokens =
        s->prefilling() ? std::span<const int32_t>(s->result.prompt).subspan(s->prefilled, n)
                        : std::span<const int32_t>(&s->pending, 1);
    seqs.push_back({tokens, s->state.get()});
    for (int32_t t : tokens) plan.push_back({s->result.id, t, s->prefilling()});
    rows.insert(rows.end(), n, &s->route);
    stats.rows += static_cast<int32_t>(n);
    if (s->prefilling()) stats.prefill_rows += static_cast<int32_t>(n);
  }
  stats.requests = static_cast<int32_t>(batch.size());
  if (listener_ != nullptr) listener_->on_step(stats.step, plan);
  collector_->begin_step(std::move(rows));
  logits_.resize(batch.size() * size_t(model_.n_vocab()));
  model_.forward_batch(seqs, logits_);
  collector_->fill(stats);
  for (Sequence* s : batch) {
    if (s->prefilling()) s->prefilled += s->chunk();
  }
}

// What Generator::generate does after a forward call that ends the prompt or decodes a token.
void BatchEngine::sample_next(Sequence& s, std::span<const float> logits) {
  const int max_new = s.options.max_new_tokens;
  RequestResult& r = s.result;
  auto reached_length = [&] { return max_new >= 0 && int64_t(r.tokens.size()) >= max_new; };
  if (reached_length()) return finish(s, StopReason::kLength);
  const int32_t token = s.sampler.sample(logits);
  s.sampler.accept(token);
  r.tokens.push_back(token);
  r.last_token_ms = now_ms();
  if (r.tokens.size() == 1) r.first_token_ms = r.last_token_ms;
  const int index = static_cast<int>(r.tokens.size()) - 1;
  if (tokenizer_.is_eog(token)) {
    emit(s, token, index, {});
    return finish(s, StopReason::kEndOfGeneration);
  }
  // Control tokens show as nothing, as in generate.
  const std::string visible = s.text.push(tokenizer_.token_piece(token, false));
  r.text += visible;
  emit(s, token, index, visible);
  if (s.text.stopped()) return finish(s, StopReason::kStopString);
  if (reached_length()) return finish(s, StopReason::kLength);
  if (s.state->n_past() >= model_.n_ctx()) return finish(s, StopReason::kContextFull);
  s.pending = token;
}

void BatchEngine::emit(const Sequence& s, int32_t token, int index, std::string_view text) {
  if (listener_ == nullptr) return;
  listener_->on_token(s.result.id,
                      TokenEvent{token, index, text, s.result.last_token_ms - s.result.arrival_ms});
}

void BatchEngine::finish(Sequence& s, StopReason reason) {
  const std::string rest = s.text.finish();
  s.result.text += rest;
  if (!rest.empty()) emit(s, -1, static_cast<int>(s.result.tokens.size()), rest);
  s.result.stop_reason = reason;
  s.result.finished = true;
  s.route.clear();
  if (listener_ != nullptr) listener_->on_finished(s.result);
}

std::vector<RequestResult> BatchEngine::results() const {
  std::vector<RequestResult> out;
  for (const auto& s : sequences_) out.push_back(s->result);
  return out;
}

}  // namespace moescope::batching
