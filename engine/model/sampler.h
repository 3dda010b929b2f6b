#pragma once
// Picking the next token from a row of logits, with llama.cpp's semantics and its default chain
// order:
//
//   repetition penalty -> top-k -> top-p -> min-p -> temperature -> draw
//
// The filters see the penalised logits at temperature 1 (as in llama.cpp, where the temperature
// sampler comes after top-p and min-p); the temperature only reshapes the final draw. A
// temperature <= 0 means greedy: the arg-max of the penalised logits (lowest id on a tie).
//
// Reproducibility: the draw uses std::mt19937_64, whose output sequence the C++ standard fixes, and
// turns it into numbers by hand (uniform_unit below). The standard distributions
// (uniform_real_distribution, discrete_distribution) are implementation-defined, so with them the
// same seed would give different text under libstdc++ and libc++.
#include <cstdint>
#include <deque>
#include <random>
#include <span>
#include <vector>

namespace moescope {

inline constexpr uint64_t kDefaultSeed = 42;

struct SamplingParams {
  float temperature = 0.8f;     // <= 0: greedy
  int top_k = 40;               // <= 0: keep every token
  float top_p = 0.95f;          // >= 1: keep every token
  float min_p = 0.05f;          // <= 0: keep every token
  float repeat_penalty = 1.0f;  // 1: off
  int repeat_last_n = 64;       // how many recent tokens are penalised; 0: off, -1: all of them
  uint64_t seed = kDefaultSeed;

  bool greedy() const { return temperature <= 0.0f; }
  // Throws moescope::Error naming the first out-of-range parameter.
  void validate() const;
};

struct TokenCandidate {
  int32_t id = 0;
  float logit = 0.0f;
  float p = 0.0f;  // filled by softmax()
};

// The working set of the chain. Steps that need an order sort it by descending logit and set
// `sorted`; until then items[i].id == i.
struct Candidates {
  std::vector<TokenCandidate> items;
  bool sorted = false;

  static Candidates from_logits(std::span<const float> logits);
};

// The steps of the chain, public so that each can be tested on its own.
namespace sampling {

// llama.cpp's repetition penalty: every distinct token of `recent` has its logit divided by
// `penalty` when positive and multiplied by it otherwise (so it always becomes less likely).
// Expects the unsorted set (index == id).
void apply_repetition_penalty(Candidates& c, std::span<const int32_t> recent, float penalty);
// Keeps the k highest logits (k <= 0: no-op). Leaves the set sorted.
void top_k(Candidates& c, int k);
// Sorts by descending logit and sets p to the softmax of the logits.
void softmax(Candidates& c);
// Keeps the smallest prefix of the sorted distribution whose probability reaches p (p >= 1: no-op).
void top_p(Candidates& c, float p, size_t min_keep = 1);
// Keeps tokens whose probability is at least min_p times the most likely one's (p <= 0: no-op).
void min_p(Candidates& c, float p, size_t min_keep = 1);
// Divides logits by t; t <= 0 keeps only the highest logit.
void apply_temperature(Candidates& c, float t);
// Draws from softmax(logits) with u uniform in [0, 1): the first token whose cumulative
// probability exceeds u.
int32_t draw(Candidates& c, double u);

}  // namespace sampling

class Sampler {
 public:
  explicit Sampler(const SamplingParams& params);  // validates params

  const SamplingParams& params() const { return params_; }
  // Appends a token to the repetition-penalty history. Callers feed the prompt and every sampled
  // token, as llama.cpp does.
  void accept(int32_t token);
  void accept(std::span<const int32_t> tokens);
  // Runs the chain on one row of logits (n_vocab values).
  int32_t sample(std::span<const float> logits);
  // Forgets the history and restarts the random sequence from the seed.
  void reset();
  // The next number of the random sequence, uniform in [0, 1) with 53 random bits.
  double uniform_unit();

 private:
  int32_t greedy_pick(std::span<const float> logits);
  std::vector<int32_t> recent_tokens() const;

  SamplingParams params_;
  std::mt19937_64 rng_;
  std::deque<int32_t> history_;  // at most repeat_last_n tokens (all of them when -1)
};

}  // namespace moescope
