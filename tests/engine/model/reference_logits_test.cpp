// MoEScope's forward pass against llama.cpp's logits and routing on every reference model (see
// shared/reference/README.md for what each reference holds and the agreed tolerances).
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "engine/model/model.h"
#include "tests/engine/model/reference.h"

namespace moescope::test {
namespace {

struct Case {
  std::string model;
  bool f32 = false;  // all weights F32: llama.cpp's own logits must be matched to 1e-3
};

std::vector<Case> all_cases() {
  std::vector<Case> cases;
  for (const char* m :
       {"llama-moe", "llama-moe-tied", "llama-moe-k256", "olmoe", "qwen2moe", "qwen3moe",
        "granitemoe", "phimoe", "deepseek2-lite", "deepseek2-v3", "gpt-oss"}) {
    cases.push_back({std::string(m) + "-f32", true});
  }
  for (const char* m :
       {"llama-moe-q8_0",      "llama-moe-tied-q8_0", "llama-moe-k256-bf16", "llama-moe-k256-f16",
        "llama-moe-k256-q4_0", "llama-moe-k256-q4_1", "llama-moe-k256-q4_k", "llama-moe-k256-q5_0",
        "llama-moe-k256-q5_k", "llama-moe-k256-q6_k", "llama-moe-k256-q8_0", "olmoe-q8_0",
        "qwen2moe-q8_0",       "qwen3moe-q8_0",       "granitemoe-q8_0",     "phimoe-q8_0",
        "deepseek2-lite-q8_0", "deepseek2-v3-q8_0",   "gpt-oss-q8_0",        "gpt-oss-mxfp4"}) {
    cases.push_back({m, false});
  }
  return cases;
}

struct ModelRun {
  std::vector<float> logits;  // [n][n_vocab]
  Routing routing;
};

// One batch over all tokens (all logits), or one forward call per token.
ModelRun run_model(const std::string& model, MatmulPrecision precision,
                   const std::vector<int32_t>& tokens, bool token_by_token) {
  RoutingRecorder recorder;
  ModelOptions options;
  options.n_threads = 2;
  options.precision = precision;
  options.observer = &recorder;
  auto m = Model::load(model_path(model), options);
  auto state = m->new_state();
  const int64_t V = m->n_vocab();
  ModelRun run;
  run.logits.resize(tokens.size() * V);
  if (token_by_token) {
    for (size_t t = 0; t < tokens.size(); ++t) {
      m->forward({&tokens[t], 1}, *state, {&run.logits[t * V], static_cast<size_t>(V)}, false);
    }
  } else {
    m->forward(tokens, *state, run.logits, true);
  }
  EXPECT_EQ(state->n_past(), static_cast<int>(tokens.size()));
  run.routing = recorder.routing;
  return run;
}

// Positions where our top-k differs from the reference's (as sets in order), skipping positions
// whose reference margin marks a near-tie.
int routing_mismatches(const Routing& ours, const ReferenceRun& ref, double near_tie) {
  int mismatches = 0;
  for (const auto& [layer, positions] : ref.routing) {
    auto it = ours.find(layer);
    if (it == ours.end()) return 1 << 20;
    for (size_t p = 0; p < positions.size(); ++p) {
      if (near_tie > 0 && ref.margin.count(layer) && ref.margin.at(layer)[p] < near_tie) continue;
      if (p >= it->second.size() || it->second[p] != positions[p]) ++mismatches;
    }
  }
  if (ours.size() != ref.routing.size()) ++mismatches;  // routed layers must agree too
  return mismatches;
}

void report(const std::string& what, const std::string& model, const LogitStats& s) {
  std::printf("[stats] %-12s %-22s max %.3g mean %.3g std %.3g argmax %.1f%%\n", what.c_str(),
              model.c_str(), s.max_abs, s.mean_abs, s.ref_std, 100 * s.argmax_agreement);
}

class ReferenceLogits : public ::testing::TestWithParam<Case> {};

TEST_P(ReferenceLogits, FastPathMatchesLlamaCpp) {
  const Case& c = GetParam();
  const ReferenceRun ref = read_reference(c.model);
  const ModelRun run = run_model(c.model, MatmulPrecision::Fast, ref.tokens, false);
  const LogitStats s = compare_logits(run.logits, ref.logits, ref.n_vocab);
  report("fast", c.model, s);
  std::printf("[stats] fast routing mismatches vs llama.cpp: %d\n",
              routing_mismatches(run.routing, ref, 0.0));
  if (c.f32) {
    EXPECT_LE(s.max_abs, 1e-3);
    EXPECT_EQ(s.argmax_agreement, 1.0);
    EXPECT_EQ(routing_mismatches(run.routing, ref, 0.0), 0);
  } else {
    EXPECT_GE(s.argmax_agreement, 0.85);
    EXPECT_LE(s.mean_abs, 0.05 * s.ref_std);
  }
}

TEST_P(ReferenceLogits, ExactPathMatchesFloat64Reference) {
  const Case& c = GetParam();
  const ReferenceRun ref = read_reference(c.model, "exact");
  const ModelRun run = run_model(c.model, MatmulPrecision::Exact, ref.tokens, false);
  const LogitStats s = compare_logits(run.logits, ref.logits, ref.n_vocab);
  report("exact", c.model, s);
  EXPECT_LE(s.max_abs, 2e-3);
  EXPECT_EQ(routing_mismatches(run.routing, ref, 0.01), 0);
}

TEST_P(ReferenceLogits, TokenByTokenEqualsBatch) {
  const Case& c = GetParam();
  const ReferenceRun ref = read_reference(c.model);
  std::vector<MatmulPrecision> precisions = {MatmulPrecision::Exact};
  if (c.f32) precisions.push_back(MatmulPrecision::Fast);
  for (MatmulPrecision precision : precisions) {
    const ModelRun batch = run_model(c.model, precision, ref.tokens, false);
    const ModelRun steps = run_model(c.model, precision, ref.tokens, true);
    const LogitStats s = compare_logits(steps.logits, batch.logits, ref.n_vocab);
    report(precision == MatmulPrecision::Exact ? "decode-exact" : "decode-fast", c.model, s);
    EXPECT_LE(s.max_abs, 1e-4);
    EXPECT_EQ(steps.routing, batch.routing);
  }
}

INSTANTIATE_TEST_SUITE_P(Models, ReferenceLogits, ::testing::ValuesIn(all_cases()),
                         [](const auto& info) {
                           std::string name = info.param.model;
                           for (char& ch : name) {
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return name;
                         });

// llama.cpp decoded these prompts one token per call too; that must match like the batch does.
TEST(IncrementalReference, MatchesLlamaCppDecodeCalls) {
  for (const std::string model : {"llama-moe-f32", "llama-moe-q8_0"}) {
    const ReferenceRun ref = read_reference(model, "incremental");
    const ModelRun run = run_model(model, MatmulPrecision::Fast, ref.tokens, true);
    const LogitStats s = compare_logits(run.logits, ref.logits, ref.n_vocab);
    report("incremental", model, s);
    if (model.ends_with("f32")) {
      EXPECT_LE(s.max_abs, 1e-3);
      EXPECT_EQ(s.argmax_agreement, 1.0);
      EXPECT_EQ(routing_mismatches(run.routing, ref, 0.0), 0);
    } else {
      EXPECT_GE(s.argmax_agreement, 0.85);
      EXPECT_LE(s.mean_abs, 0.05 * s.ref_std);
    }
  }
}

}  // namespace
}  // namespace moescope::test
