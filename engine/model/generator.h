#pragma once
// Text generation on top of Model::forward: the prompt is processed in batches (prefill), then
// tokens are sampled and fed back one at a time (decode) until an end-of-generation token, a stop
// string, the length limit, a full context or cancellation. Text is streamed per token through a
// callback; the timing mirrors llama.cpp's (prompt eval, eval, time to first token).
#include <atomic>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/model/sampler.h"

namespace moescope {

class Model;
namespace tokenizer {
class Tokenizer;
}

struct GenerationOptions {
  int max_new_tokens = 128;  // -n; < 0: until end of generation or a full context
  SamplingParams sampling;
  std::vector<std::string> stop;  // stop strings, matched in the generated text
  int n_batch = 512;              // prompt tokens per forward call
};

enum class StopReason { kLength, kEndOfGeneration, kStopString, kContextFull, kCancelled };
std::string_view stop_reason_name(StopReason reason);

struct TokenEvent {
  int32_t id = -1;        // the sampled token; -1 for the final flush of held-back text
  int index = 0;          // 0-based count among generated tokens
  std::string_view text;  // text this token makes visible (may be empty; see TextStream)
  double elapsed_ms = 0;  // since generate() began
};
using TokenCallback = std::function<void(const TokenEvent&)>;

struct GenerationStats {
  int n_prompt = 0;           // prompt tokens processed
  int n_generated = 0;        // tokens sampled, an end-of-generation token included
  int n_decoded = 0;          // single-token forward passes
  double prefill_ms = 0;      // prompt processing
  double decode_ms = 0;       // the single-token forward passes
  double sample_ms = 0;       // sampling and detokenising
  double first_token_ms = 0;  // from the start to the first sampled token
  double total_ms = 0;
  StopReason stop_reason = StopReason::kLength;

  double prefill_tokens_per_second() const;
  double decode_tokens_per_second() const;
};

struct GenerationResult {
  std::vector<int32_t> tokens;  // generated ids, an end-of-generation token included
  std::string text;             // what was streamed: up to (not including) a stop string
  GenerationStats stats;
};

class Generator {
 public:
  Generator(Model& model, const tokenizer::Tokenizer& tokenizer);

  // The prompt's ids as llama.cpp tokenizes a prompt: BOS when the vocabulary adds one, special
  // tokens written in the text parsed (chat templates rely on it) unless parse_special is false
  // (--no-parse-special on the command line).
  std::vector<int32_t> tokenize_prompt(std::string_view prompt, bool parse_special = true) const;

  // Generates from a fresh KV cache. Throws moescope::Error when the prompt is empty or longer
  // than the context ("prompt has N tokens but the context holds M"). `cancel` is checked before
  // each new token.
  GenerationResult generate(std::span<const int32_t> prompt, const GenerationOptions& options,
                            const TokenCallback& on_token = {},
                            const std::atomic<bool>* cancel = nullptr);

 private:
  Model& model_;
  const tokenizer::Tokenizer& tokenizer_;
};

}  // namespace moescope
