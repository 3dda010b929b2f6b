#include "engine/model/generator.h"

#include <algorithm>
#include <chrono>

#include "engine/common/error.h"
#include "engine/model/model.h"
#include "engine/model/text_stream.h"
#include "engine/tokenizer/tokenizer.h"

namespace moescope {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

}  // namespace

std::string_view stop_reason_name(StopReason reason) {
  switch (reason) {
    case StopReason::kLength:
      return "length";
    case StopReason::kEndOfGeneration:
      return "end of generation";
    case StopReason::kStopString:
      return "stop string";
    case StopReason::kContextFull:
      return "context full";
    case StopReason::kCancelled:
      return "cancelled";
  }
  return "unknown";
}

double GenerationStats::prefill_tokens_per_second() const {
  return prefill_ms > 0 ? n_prompt * 1000.0 / prefill_ms : 0.0;
}

double GenerationStats::decode_tokens_per_second() const {
  return decode_ms > 0 ? n_decoded * 1000.0 / decode_ms : 0.0;
}

Generator::Generator(Model& model, const tokenizer::Tokenizer& tokenizer)
    : model_(model), tokenizer_(tokenizer) {}

std::vector<int32_t> Generator::tokenize_prompt(std::string_view prompt, bool parse_special) const {
  return tokenizer_.encode(prompt, /*add_special=*/true, parse_special);
}

GenerationResult Generator::generate(std::span<const int32_t> prompt,
                                     const GenerationOptions& options,
                                     const TokenCallback& on_token,
                                     const std::atomic<bool>* cancel) {
  const int n_ctx = model_.n_ctx();
  const int n_vocab = model_.n_vocab();
  if (prompt.empty()) fail("the prompt is empty: there is nothing to continue from");
  if (static_cast<int64_t>(prompt.size()) > n_ctx) {
    fail("prompt has {} tokens but the context holds {}", prompt.size(), n_ctx);
  }
  if (options.n_batch < 1) fail("the batch size must be at least 1, got {}", options.n_batch);

  Sampler sampler(options.sampling);
  TextStream text_stream(options.stop);
  GenerationResult result;
  GenerationStats& stats = result.stats;
  stats.n_prompt = static_cast<int>(prompt.size());

  const auto start = Clock::now();
  auto state = model_.new_state();
  std::vector<float> logits(n_vocab);  // [1][n_vocab] for the last processed token

  for (size_t begin = 0; begin < prompt.size(); begin += options.n_batch) {
    const size_t n = std::min<size_t>(options.n_batch, prompt.size() - begin);
    model_.forward(prompt.subspan(begin, n), *state, logits, /*all_logits=*/false);
  }
  stats.prefill_ms = ms_since(start);
  sampler.accept(prompt);

  auto emit = [&](int32_t id, std::string_view text) {
    result.text.append(text);
    if (on_token) on_token({id, stats.n_generated - 1, text, ms_since(start)});
  };

  for (;;) {
    if (options.max_new_tokens >= 0 && stats.n_generated >= options.max_new_tokens) {
      stats.stop_reason = StopReason::kLength;
      break;
    }
    if (cancel && cancel->load(std::memory_order_relaxed)) {
      stats.stop_reason = StopReason::kCancelled;
      break;
    }
    const auto sample_start = Clock::now();
    const int32_t token = sampler.sample(logits);
    sampler.accept(token);
    result.tokens.push_back(token);
    ++stats.n_generated;
    if (stats.n_generated == 1) stats.first_token_ms = ms_since(start);

    if (tokenizer_.is_eog(token)) {
      stats.stop_reason = StopReason::kEndOfGeneration;
      stats.sample_ms += ms_since(sample_start);
      break;
    }
    // Control tokens show as nothing, as in llama.cpp's CLI.
    const std::string text = text_stream.push(tokenizer_.token_piece(token, false));
    stats.sample_ms += ms_since(sample_start);
    emit(token, text);
    if (text_stream.stopped()) {
      stats.stop_reason = StopReason::kStopString;
      break;
    }
    if (options.max_new_tokens >= 0 && stats.n_generated >= options.max_new_tokens) continue;
    if (state->n_past() >= n_ctx) {
      stats.stop_reason = StopReason::kContextFull;
      break;
    }
    const auto decode_start = Clock::now();
    model_.forward(std::span<const int32_t>(&token, 1), *state, logits, /*all_logits=*/false);
    stats.decode_ms += ms_since(decode_start);
    ++stats.n_decoded;
  }

  const std::string rest = text_stream.finish();
  if (!rest.empty()) emit(-1, rest);
  stats.total_ms = ms_since(start);
  return result;
}

}  // namespace moescope
