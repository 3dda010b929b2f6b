#pragma once
// Continuous batching: many requests, each a sequence with its own KV cache and position, run
// together one forward call (step) at a time. A step takes, from each request the scheduler picks,
// its next prompt chunk (prefill) or its last sampled token (decode), mixed; Model::forward_batch
// keeps attention per sequence and lets the MoE block group all the step's rows by expert.
// Requests join (submit) and leave (finish) between steps; the step is bounded by a maximum
// number of requests and of rows.
//
// Exactness: a request's tokens are those Generator::generate gives it alone. Its prompt is cut
// into the same chunks (GenerationOptions::n_batch), forward_batch computes each sequence as it
// would alone, and sampling, stop strings and length limits follow the generator step for step
// with the request's own sampler (own seed).
//
// The engine observes the routing (it installs itself as the model's observer, passing every
// event on to the observer installed before, e.g. an offloading ExpertStore) to report, per step
// and MoE layer, the distinct experts and tokens per expert, and to give the scheduler each
// request's previous route.
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/batching/scheduler.h"
#include "engine/common/ids.h"
#include "engine/model/generator.h"
#include "engine/model/moe_observer.h"

namespace moescope {
class Model;
class InferenceState;
namespace tokenizer {
class Tokenizer;
}
}  // namespace moescope

namespace moescope::batching {

struct BatchOptions {
  StepLimits limits;
  std::string scheduler = "fifo";
};

// A finished (or still running) request. Times are ms since the engine was created.
struct RequestResult {
  RequestId id;
  std::vector<int32_t> prompt;
  std::vector<int32_t> tokens;  // generated ids, an end-of-generation token included
  std::string text;             // streamed text, up to (not including) a stop string
  StopReason stop_reason = StopReason::kLength;
  bool finished = false;
  double arrival_ms = 0;
  double first_token_ms = -1;  // when its first token was sampled (-1: none yet)
  double last_token_ms = -1;
  int64_t steps = 0;  // forward calls it took part in

  double ttft_ms() const { return first_token_ms - arrival_ms; }
  // Time per output token after the first; 0 with fewer than two tokens.
  double tpot_ms() const;
};

// One forward call.
struct StepStats {
  int64_t step = 0;
  int32_t requests = 0;
  int32_t rows = 0;          // tokens forwarded
  int32_t prefill_rows = 0;  // of which prompt tokens
  double ms = 0;             // wall time of the forward call and sampling
  // Per model layer (0 for dense layers): distinct experts the step ran, the most tokens any one
  // expert got, and the token-expert pairs run.
  std::vector<int32_t> distinct_experts;
  std::vector<int32_t> max_tokens_per_expert;
  std::vector<int32_t> routings;  // token-expert pairs run
};

// One row of a step, as the engine forwards it.
struct StepRow {
  RequestId request;
  int32_t token = -1;
  bool prompt = false;  // a prompt token; else the request's last sampled token (decode)
};

// Hears a BatchEngine as it runs, on the thread that steps it (the session pipeline's recording,
// a front end). Every method has an empty default.
class BatchListener {
 public:
  virtual ~BatchListener() = default;
  // Before step `step`'s forward call: its rows in order (the rows the model's observer will
  // number 0, 1, ...).
  virtual void on_step(int64_t /*step*/, std::span<const StepRow> /*rows*/) {}
  // A request's sampled token and the text it makes visible, as Generator::generate streams it
  // (id -1: the final flush of held-back text). Unlike the generator's stream, an
  // end-of-generation token comes too (with no text): every sampled token is heard.
  virtual void on_token(RequestId /*request*/, const TokenEvent& /*event*/) {}
  // A request finished; `result` is final.
  virtual void on_finished(const RequestResult& /*result*/) {}
};

class BatchEngine {
 public:
  // The model and tokenizer must outlive the engine. Throws for bad limits or scheduler.
  BatchEngine(Model& model, const tokenizer::Tokenizer& tokenizer, BatchOptions options);
  ~BatchEngine();
  BatchEngine(const BatchEngine&) = delete;
  BatchEngine& operator=(const BatchEngine&) = delete;

  // Queues a request; it can run from the next step. Throws (nothing queued) for an empty prompt,
  // a prompt longer than the context, or bad options. options.n_batch is its prefill chunk and
  // must fit in a step (<= limits.max_tokens).
  RequestId submit(std::vector<int32_t> prompt, const GenerationOptions& options);

  // Who hears the steps, tokens and finished requests (may be null; must outlive the engine).
  void set_listener(BatchListener* listener) { listener_ = listener; }

  // Runs one step. Returns false (and does nothing) when no request is active.
  bool step();
  bool active() const;

  const std::vector<StepStats>& steps() const { return steps_; }
  // Every submitted request in submission order (finished ones with their final text).
  std::vector<RequestResult> results() const;
  double now_ms() const;

 private:
  struct Sequence;
  class RouteCollector;

  std::vector<Candidate> candidates(std::vector<Sequence*>& order) const;
  void forward(const std::vector<Sequence*>& batch, StepStats& stats);
  void sample_next(Sequence& s, std::span<const float> logits);
  void emit(const Sequence& s, int32_t token, int index, std::string_view text);
  void finish(Sequence& s, StopReason reason);

  Model& model_;
  const tokenizer::Tokenizer& tokenizer_;
  BatchOptions options_;
  std::unique_ptr<Scheduler> scheduler_;
  std::unique_ptr<RouteCollector> collector_;
  MoeObserver* previous_observer_ = nullptr;
  BatchListener* listener_ = nullptr;
  std::vector<std::unique_ptr<Sequence>> sequences_;  // submission order
  std::vector<StepStats> steps_;
  std::vector<float> logits_;
  int64_t start_ns_ = 0;
};

}  // namespace moescope::batching
