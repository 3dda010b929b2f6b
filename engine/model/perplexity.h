#pragma once
// Perplexity exactly as llama.cpp's llama-perplexity computes it, so the numbers compare:
//  - tokenize the whole text once, with BOS when the vocabulary adds one;
//  - cut it into n_chunk = n_tokens / n_ctx non-overlapping chunks of n_ctx tokens (the tail is
//    dropped), replacing each chunk's first token by BOS when the vocabulary adds one;
//  - evaluate each chunk from an empty KV cache and score only its second half: the logits at
//    positions n_ctx/2 .. n_ctx-2 predicting tokens n_ctx/2+1 .. n_ctx-1 (n_ctx/2 - 1 per chunk),
//    so every scored token has at least half a context behind it;
//  - PPL = exp(mean NLL); its error is PPL * sqrt(var(NLL) / (count - 1)).
#include <cstdint>
#include <functional>
#include <span>
#include <string_view>
#include <vector>

namespace moescope {

class Model;
namespace tokenizer {
class Tokenizer;
}

struct PerplexityOptions {
  int n_ctx = 512;    // chunk length; the model's context must hold it
  int n_chunks = -1;  // -1: every whole chunk of the text
  bool parse_special = false;  // control-token text such as <s> becomes control tokens
};

struct PerplexityResult {
  double ppl = 0.0;
  double ppl_error = 0.0;  // one standard error of the estimate, as llama.cpp prints it
  int n_tokens = 0;        // tokens of the whole text
  int n_chunks = 0;
  int n_scored = 0;             // predictions scored
  std::vector<double> running;  // the estimate after each chunk ("[1]x,[2]y,...")
  double seconds = 0.0;         // time spent evaluating
};

// Running sums of negative log-likelihoods; kept apart from the model so it can be checked alone.
class NllAccumulator {
 public:
  // -log softmax(logits)[target], computed as llama.cpp does (float exponentials summed in double).
  static double nll(std::span<const float> logits, int32_t target);

  void add(double nll_value);
  int count() const { return count_; }
  double ppl() const;
  double ppl_error() const;  // 0 when undefined (fewer than two values or no spread)

 private:
  double sum_ = 0.0;
  double sum_sq_ = 0.0;
  int count_ = 0;
};

// Called after each chunk with its 1-based index and the running estimate.
using PerplexityProgress = std::function<void(int chunk, double running_ppl)>;

// Throws moescope::Error if the text has fewer than 2 * n_ctx tokens or the model's context is
// shorter than n_ctx.
PerplexityResult compute_perplexity(Model& model, const tokenizer::Tokenizer& tokenizer,
                                    std::string_view text, const PerplexityOptions& options,
                                    const PerplexityProgress& progress = {});

}  // namespace moescope
