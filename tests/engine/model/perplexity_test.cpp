// Perplexity: the scoring arithmetic by hand, and the whole method against llama-perplexity's logs
// for the same model, text and context (shared/reference/perplexity/).
#include "engine/model/perplexity.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "engine/common/error.h"
#include "engine/model/model.h"
#include "engine/tokenizer/tokenizer.h"

namespace moescope {
namespace {

const std::filesystem::path kReference = std::filesystem::path(MOESCOPE_SHARED_DIR) / "reference";

TEST(NllAccumulator, NegativeLogSoftmaxOfTheTarget) {
  // softmax(log 1, log 2, log 3, log 4) = 0.1, 0.2, 0.3, 0.4; shifting every logit changes nothing.
  const std::vector<float> logits = {std::log(1.0f), std::log(2.0f), std::log(3.0f),
                                     std::log(4.0f)};
  EXPECT_NEAR(NllAccumulator::nll(logits, 3), -std::log(0.4), 1e-6);
  EXPECT_NEAR(NllAccumulator::nll(logits, 0), -std::log(0.1), 1e-6);
  std::vector<float> shifted = logits;
  for (float& l : shifted) l += 100.0f;
  EXPECT_NEAR(NllAccumulator::nll(shifted, 1), -std::log(0.2), 1e-5);
  EXPECT_THROW(NllAccumulator::nll(logits, 4), Error);
}

TEST(NllAccumulator, PerplexityAndItsStandardError) {
  // Two values a, b: PPL = exp((a + b) / 2); the population variance is ((a - b) / 2)^2, so the
  // error llama.cpp prints, sqrt(var / (n - 1)) * PPL, is |a - b| / 2 * PPL.
  NllAccumulator acc;
  EXPECT_EQ(acc.ppl_error(), 0.0);
  acc.add(1.0);
  EXPECT_NEAR(acc.ppl(), std::exp(1.0), 1e-12);
  EXPECT_EQ(acc.ppl_error(), 0.0);
  acc.add(3.0);
  EXPECT_NEAR(acc.ppl(), std::exp(2.0), 1e-12);
  EXPECT_NEAR(acc.ppl_error(), 1.0 * std::exp(2.0), 1e-9);
  EXPECT_EQ(acc.count(), 2);
}

struct LlamaPerplexityLog {
  int n_chunks = 0;
  std::vector<double> running;
  double final_ppl = 0.0;
  double final_error = 0.0;
};

LlamaPerplexityLog read_log(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  LlamaPerplexityLog log;
  std::smatch m;
  if (std::regex_search(text, m, std::regex(R"(over (\d+) chunks)")))
    log.n_chunks = std::stoi(m[1]);
  const std::regex running(R"(\[(\d+)\]([0-9.]+),)");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), running);
       it != std::sregex_iterator(); ++it) {
    log.running.push_back(std::stod((*it)[2]));
  }
  if (std::regex_search(text, m, std::regex(R"(PPL = ([0-9.]+) \+/- ([0-9.]+))"))) {
    log.final_ppl = std::stod(m[1]);
    log.final_error = std::stod(m[2]);
  }
  return log;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// Our KV cache is F32, so the logs of llama-perplexity run with an F32 cache are the reference.
void expect_matches_llama_perplexity(const std::string& model_name, double tolerance) {
  const LlamaPerplexityLog log = read_log(kReference / "perplexity" / (model_name + ".kvf32.log"));
  ASSERT_GT(log.n_chunks, 0);
  ASSERT_EQ(log.running.size(), static_cast<size_t>(log.n_chunks));

  ModelOptions options;
  options.n_threads = 2;
  options.n_ctx = 64;
  auto model = Model::load(kReference / "models" / (model_name + ".gguf"), options);
  auto tokenizer = tokenizer::Tokenizer::from_gguf(model->file());
  const std::string text = read_file(kReference / "perplexity" / "text.txt");

  PerplexityOptions ppl_options;
  ppl_options.n_ctx = 64;
  std::vector<double> progress;
  const PerplexityResult r =
      compute_perplexity(*model, *tokenizer, text, ppl_options, [&](int chunk, double running) {
        EXPECT_EQ(chunk, static_cast<int>(progress.size()) + 1);
        progress.push_back(running);
      });

  EXPECT_EQ(r.n_chunks, log.n_chunks);
  EXPECT_EQ(r.n_scored, r.n_chunks * 31);  // positions 32..62 predict tokens 33..63
  EXPECT_EQ(progress, r.running);
  ASSERT_EQ(r.running.size(), log.running.size());
  for (size_t i = 0; i < r.running.size(); ++i) {
    EXPECT_NEAR(r.running[i] / log.running[i], 1.0, tolerance) << "chunk " << i + 1;
  }
  EXPECT_NEAR(r.ppl / log.final_ppl, 1.0, tolerance);
  EXPECT_NEAR(r.ppl_error / log.final_error, 1.0, 20 * tolerance);
}

TEST(Perplexity, MatchesLlamaPerplexityOnF32Model) {
  expect_matches_llama_perplexity("llama-moe-f32", 1e-4);
}

TEST(Perplexity, MatchesLlamaPerplexityOnQ8_0Model) {
  expect_matches_llama_perplexity("llama-moe-q8_0", 1e-3);
}

TEST(Perplexity, TooShortATextFailsClearly) {
  ModelOptions options;
  options.n_threads = 1;
  options.n_ctx = 64;
  auto model = Model::load(kReference / "models" / "llama-moe-f32.gguf", options);
  auto tokenizer = tokenizer::Tokenizer::from_gguf(model->file());
  PerplexityOptions ppl_options;
  ppl_options.n_ctx = 64;
  try {
    compute_perplexity(*model, *tokenizer, "Too short.", ppl_options);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("needs at least 128"), std::string::npos) << e.what();
  }
  ppl_options.n_ctx = 128;  // more than the model's context of 64
  EXPECT_THROW(compute_perplexity(*model, *tokenizer,
                                  read_file(kReference / "perplexity" / "text.txt"), ppl_options),
               Error);
}

}  // namespace
}  // namespace moescope
