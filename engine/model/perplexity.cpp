#include "engine/model/perplexity.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "engine/common/error.h"
#include "engine/model/model.h"
#include "engine/tokenizer/tokenizer.h"

namespace moescope {

double NllAccumulator::nll(std::span<const float> logits, int32_t target) {
  if (target < 0 || static_cast<size_t>(target) >= logits.size()) {
    fail("internal: token {} is outside a vocabulary of {}", target, logits.size());
  }
  // As llama-perplexity's log_softmax: float differences and exponentials, a double sum.
  const float max_logit = *std::max_element(logits.begin(), logits.end());
  double sum_exp = 0.0;
  for (float l : logits) sum_exp += std::exp(l - max_logit);
  return -(logits[target] - max_logit - std::log(sum_exp));
}

void NllAccumulator::add(double v) {
  sum_ += v;
  sum_sq_ += v * v;
  ++count_;
}

double NllAccumulator::ppl() const {
  return count_ > 0 ? std::exp(sum_ / count_) : 0.0;
}

double NllAccumulator::ppl_error() const {
  if (count_ < 2) return 0.0;
  const double mean = sum_ / count_;
  const double variance = sum_sq_ / count_ - mean * mean;
  if (!(variance > 0.0)) return 0.0;
  return std::sqrt(variance / (count_ - 1)) * std::exp(mean);
}

PerplexityResult compute_perplexity(Model& model, const tokenizer::Tokenizer& tokenizer,
                                    std::string_view text, const PerplexityOptions& options,
                                    const PerplexityProgress& progress) {
  const int n_ctx = options.n_ctx;
  if (n_ctx < 4) fail("the perplexity context must be at least 4 tokens, got {}", n_ctx);
  if (n_ctx > model.n_ctx()) {
    fail("a perplexity context of {} tokens does not fit the model's context of {}", n_ctx,
         model.n_ctx());
  }

  // By default special-token text is not parsed: the file is plain text (common_tokenize's
  // default, which llama-perplexity uses).
  std::vector<int32_t> tokens =
      tokenizer.encode(text, /*add_special=*/true, options.parse_special);
  PerplexityResult result;
  result.n_tokens = static_cast<int>(tokens.size());
  if (result.n_tokens < 2 * n_ctx) {
    fail("the text has {} tokens; perplexity with a context of {} needs at least {}",
         result.n_tokens, n_ctx, 2 * n_ctx);
  }
  const int n_chunk_max = result.n_tokens / n_ctx;
  const int n_chunk = options.n_chunks < 0 ? n_chunk_max : std::min(options.n_chunks, n_chunk_max);
  const bool add_bos = tokenizer.vocab().add_bos;
  const int n_vocab = model.n_vocab();
  const int first = n_ctx / 2;

  const auto start = std::chrono::steady_clock::now();
  auto state = model.new_state();
  std::vector<int32_t> chunk(n_ctx);
  std::vector<float> logits(static_cast<size_t>(n_ctx) * n_vocab);  // [n_ctx][n_vocab]
  NllAccumulator acc;
  for (int i = 0; i < n_chunk; ++i) {
    const auto begin = tokens.begin() + static_cast<ptrdiff_t>(i) * n_ctx;
    std::copy(begin, begin + n_ctx, chunk.begin());
    if (add_bos) chunk[0] = tokenizer.bos();

    state->clear();
    model.forward(chunk, *state, logits, /*all_logits=*/true);

    // Logits at position j predict token j + 1; the BOS substitution never affects a target.
    for (int j = first; j < n_ctx - 1; ++j) {
      const std::span<const float> row(logits.data() + static_cast<size_t>(j) * n_vocab, n_vocab);
      acc.add(NllAccumulator::nll(row, *(begin + j + 1)));
    }
    result.running.push_back(acc.ppl());
    if (progress) progress(i + 1, acc.ppl());
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  result.n_chunks = n_chunk;
  result.n_scored = acc.count();
  result.ppl = acc.ppl();
  result.ppl_error = acc.ppl_error();
  return result;
}

}  // namespace moescope
