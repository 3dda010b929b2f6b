// Generator on a reference model (llama-moe-f32): greedy decoding is the arg-max of the logits the
// model gives for the whole sequence in one batch, seeded sampling repeats, and every way of
// stopping (length, stop string, full context, cancellation, too long a prompt) behaves.
#include "engine/model/generator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <string>
#include <vector>

#include "engine/common/error.h"
#include "engine/model/model.h"
#include "engine/tokenizer/tokenizer.h"

namespace moescope {
namespace {

const std::filesystem::path kModel =
    std::filesystem::path(MOESCOPE_SHARED_DIR) / "reference" / "models" / "llama-moe-f32.gguf";
constexpr const char* kPrompt =
    "Emma Woodhouse, handsome, clever, and rich, with a comfortable home";

struct Loaded {
  std::unique_ptr<Model> model;
  std::unique_ptr<tokenizer::Tokenizer> tokenizer;
};

Loaded load(int n_ctx = 256) {
  ModelOptions options;
  options.n_threads = 2;
  options.n_ctx = n_ctx;
  Loaded l;
  l.model = Model::load(kModel, options);
  l.tokenizer = tokenizer::Tokenizer::from_gguf(l.model->file());
  return l;
}

GenerationOptions greedy(int n) {
  GenerationOptions o;
  o.max_new_tokens = n;
  o.sampling.temperature = 0.0f;
  return o;
}

TEST(Generator, GreedyIsTheArgmaxOfBatchLogitsAndRepeats) {
  Loaded l = load();
  Generator gen(*l.model, *l.tokenizer);
  const std::vector<int32_t> prompt = gen.tokenize_prompt(kPrompt);
  ASSERT_EQ(prompt.front(), l.tokenizer->bos());
  const int n = 24;
  const GenerationResult a = gen.generate(prompt, greedy(n));
  ASSERT_EQ(a.tokens.size(), static_cast<size_t>(n));
  EXPECT_EQ(a.stats.stop_reason, StopReason::kLength);
  EXPECT_EQ(gen.generate(prompt, greedy(n)).tokens, a.tokens);

  // The whole sequence in one batch: position p's logits must pick token p + 1.
  std::vector<int32_t> all = prompt;
  all.insert(all.end(), a.tokens.begin(), a.tokens.end() - 1);
  const int n_vocab = l.model->n_vocab();
  std::vector<float> logits(all.size() * n_vocab);
  auto state = l.model->new_state();
  l.model->forward(all, *state, logits, /*all_logits=*/true);
  int checked = 0;
  for (int i = 0; i < n; ++i) {
    const float* row = logits.data() + (prompt.size() - 1 + i) * n_vocab;
    std::vector<float> sorted(row, row + n_vocab);
    std::partial_sort(sorted.begin(), sorted.begin() + 2, sorted.end(), std::greater<float>());
    if (sorted[0] - sorted[1] < 1e-4f) continue;  // a near-tie may go either way
    EXPECT_EQ(std::max_element(row, row + n_vocab) - row, a.tokens[i]) << "token " << i;
    ++checked;
  }
  EXPECT_GE(checked, n - 2);
}

TEST(Generator, SeededSamplingRepeatsAndSeedsDiffer) {
  Loaded l = load();
  Generator gen(*l.model, *l.tokenizer);
  const auto prompt = gen.tokenize_prompt(kPrompt);
  GenerationOptions o;
  o.max_new_tokens = 32;
  o.sampling.temperature = 1.0f;
  o.sampling.seed = 7;
  const auto first = gen.generate(prompt, o).tokens;
  EXPECT_EQ(gen.generate(prompt, o).tokens, first);
  o.sampling.seed = 8;
  EXPECT_NE(gen.generate(prompt, o).tokens, first);
}

TEST(Generator, StreamedTextAndStatisticsAddUp) {
  Loaded l = load();
  Generator gen(*l.model, *l.tokenizer);
  const auto prompt = gen.tokenize_prompt(kPrompt);
  std::string streamed;
  std::vector<int32_t> ids;
  double last_ms = 0.0;
  const auto r = gen.generate(prompt, greedy(16), [&](const TokenEvent& e) {
    streamed.append(e.text);
    if (e.id >= 0) ids.push_back(e.id);
    EXPECT_GE(e.elapsed_ms, last_ms);
    last_ms = e.elapsed_ms;
  });
  EXPECT_EQ(streamed, r.text);
  EXPECT_EQ(ids, r.tokens);
  std::string pieces;
  for (int32_t id : r.tokens) pieces += l.tokenizer->token_piece(id, false);
  EXPECT_EQ(r.text, pieces);
  EXPECT_EQ(r.stats.n_prompt, static_cast<int>(prompt.size()));
  EXPECT_EQ(r.stats.n_generated, 16);
  EXPECT_EQ(r.stats.n_decoded, 15);  // the last token is not fed back
  EXPECT_GT(r.stats.prefill_tokens_per_second(), 0.0);
  EXPECT_GT(r.stats.decode_tokens_per_second(), 0.0);
  EXPECT_LE(r.stats.first_token_ms, r.stats.total_ms);
}

TEST(Generator, StopStringAcrossTokenBoundariesEndsTheText) {
  Loaded l = load();
  Generator gen(*l.model, *l.tokenizer);
  const auto prompt = gen.tokenize_prompt(kPrompt);
  const auto full = gen.generate(prompt, greedy(20));
  // A stop string made of the end of token 5's text and the start of token 6's.
  const std::string piece5 = l.tokenizer->token_piece(full.tokens[5], false);
  const std::string piece6 = l.tokenizer->token_piece(full.tokens[6], false);
  ASSERT_FALSE(piece5.empty());
  ASSERT_FALSE(piece6.empty());
  const std::string stop = piece5.substr(piece5.size() - 1) + piece6.substr(0, 1);
  const size_t at = full.text.find(stop);
  ASSERT_NE(at, std::string::npos);

  GenerationOptions o = greedy(20);
  o.stop = {stop};
  const auto cut = gen.generate(prompt, o);
  EXPECT_EQ(cut.stats.stop_reason, StopReason::kStopString);
  EXPECT_EQ(cut.text, full.text.substr(0, at));
  EXPECT_LE(cut.tokens.size(), 7u);
}

TEST(Generator, StopsWhenTheContextIsFull) {
  Loaded l = load(/*n_ctx=*/24);
  Generator gen(*l.model, *l.tokenizer);
  const auto prompt = gen.tokenize_prompt(kPrompt);
  ASSERT_LT(prompt.size(), 24u);
  const auto r = gen.generate(prompt, greedy(-1));
  if (r.stats.stop_reason == StopReason::kEndOfGeneration) {
    EXPECT_TRUE(l.tokenizer->is_eog(r.tokens.back()));
  } else {
    EXPECT_EQ(r.stats.stop_reason, StopReason::kContextFull);
    // Every position is used, and the last sampled token needs none.
    EXPECT_EQ(r.tokens.size(), 24 - prompt.size() + 1);
  }
}

TEST(Generator, CancellationStopsBetweenTokens) {
  Loaded l = load();
  Generator gen(*l.model, *l.tokenizer);
  std::atomic<bool> cancel{false};
  int seen = 0;
  const auto r = gen.generate(
      gen.tokenize_prompt(kPrompt), greedy(50),
      [&](const TokenEvent& e) {
        if (e.id >= 0 && ++seen == 3) cancel = true;
      },
      &cancel);
  EXPECT_EQ(r.stats.stop_reason, StopReason::kCancelled);
  EXPECT_EQ(r.tokens.size(), 3u);
}

TEST(Generator, PromptLongerThanTheContextFailsWithItsSize) {
  Loaded l = load(/*n_ctx=*/8);
  Generator gen(*l.model, *l.tokenizer);
  const auto prompt = gen.tokenize_prompt(kPrompt);
  ASSERT_GT(prompt.size(), 8u);
  try {
    gen.generate(prompt, greedy(4));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "prompt has " + std::to_string(prompt.size()) + " tokens but the context holds 8");
  }
  EXPECT_THROW(gen.generate(std::vector<int32_t>{}, greedy(4)), Error);
}

}  // namespace
}  // namespace moescope
