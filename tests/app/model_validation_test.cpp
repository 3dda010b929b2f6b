// Hostile model files, built from the reference models with the project's GGUF writer, one per
// defect family: every model command must refuse them with one line naming the key or tensor and
// exit code 1, and `inspect` must call them "not supported" with the same reason. Valid reference
// models must stay supported and generate.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "engine/gguf/gguf_file.h"
#include "engine/gguf/gguf_writer.h"
#include "engine/model/model_check.h"
#include "engine/model/model_summary.h"
#include "tests/app/cli_runner.h"
#include "tests/engine/model/model_builder.h"
#include "tests/engine/model/reference.h"

namespace moescope::test {
namespace {

namespace fs = std::filesystem;

struct HostileModel {
  std::string name;
  std::string base;  // reference model it is derived from
  std::function<gguf::GgufWriter(const gguf::GgufFile&)> build;
  std::string names;  // the key or tensor the error must name
};

void PrintTo(const HostileModel& model, std::ostream* os) {
  *os << model.name;
}

gguf::GgufWriter with_key(const gguf::GgufFile& src, const std::string& key, gguf::Value value) {
  gguf::GgufWriter w = copy_model(src);
  w.set(key, std::move(value));
  return w;
}

gguf::GgufWriter without_tensor(const gguf::GgufFile& src, const std::string& tensor) {
  CopyFilter filter;
  filter.keep_tensor = [tensor](const gguf::TensorInfo& t) { return t.name != tensor; };
  return copy_model(src, filter);
}

std::vector<std::string> tokens_of(const gguf::GgufFile& src) {
  return std::get<std::vector<std::string>>(src.get_array("tokenizer.ggml.tokens")->items);
}

// The token list one past / one short of the embedding rows, which vocab_size still claims.
gguf::GgufWriter tokens_resized(const gguf::GgufFile& src, bool larger) {
  auto tokens = tokens_of(src);
  const auto n = static_cast<uint32_t>(tokens.size());
  if (larger) {
    tokens.push_back("<extra>");
  } else {
    tokens.pop_back();
  }
  gguf::GgufWriter w = copy_model(src);
  w.set_array("tokenizer.ggml.tokens", std::move(tokens));
  w.set(*src.get_string("general.architecture") + ".vocab_size", gguf::make_value(n));
  return w;
}

std::vector<HostileModel> hostile_models() {
  using gguf::make_value;
  std::vector<HostileModel> cases;
  auto key_case = [&](std::string name, std::string base, std::string key, gguf::Value value) {
    cases.push_back({name, base,
                     [key, value](const gguf::GgufFile& src) { return with_key(src, key, value); },
                     key});
  };
  // Tensor set per architecture: a routed-expert part missing from one layer only.
  cases.push_back(
      {"gate_exps_missing_in_one_layer", "llama-moe-q8_0",
       [](const gguf::GgufFile& src) { return without_tensor(src, "blk.1.ffn_gate_exps.weight"); },
       "blk.1.ffn_gate_exps.weight"});
  cases.push_back(
      {"router_missing", "qwen2moe-f32",
       [](const gguf::GgufFile& src) { return without_tensor(src, "blk.0.ffn_gate_inp.weight"); },
       "blk.0.ffn_gate_inp.weight"});
  key_case("rope_dimension_zero", "qwen3moe-f32", "qwen3moe.rope.dimension_count",
           make_value(uint32_t{0}));
  key_case("heads_do_not_divide_embd", "llama-moe-q8_0", "llama.attention.head_count",
           make_value(uint32_t{3}));
  key_case("expert_count_zero", "qwen2moe-f32", "qwen2moe.expert_count", make_value(uint32_t{0}));
  key_case("expert_used_above_count", "olmoe-f32", "olmoe.expert_used_count",
           make_value(uint32_t{1000}));
  key_case("context_length_zero", "phimoe-f32", "phimoe.context_length", make_value(uint32_t{0}));
  key_case("expert_group_count_zero", "deepseek2-v3-f32", "deepseek2.expert_group_count",
           make_value(uint32_t{0}));
  key_case("block_count_absurd", "granitemoe-f32", "granitemoe.block_count",
           make_value(uint32_t{0xFFFFFFFFu}));
  for (const char* special : {"bos", "eos", "unknown"}) {
    const std::string key = std::string("tokenizer.ggml.") + special + "_token_id";
    cases.push_back({std::string(special) + "_id_out_of_range", "llama-moe-q8_0",
                     [key](const gguf::GgufFile& src) {
                       const uint32_t n = static_cast<uint32_t>(tokens_of(src).size());
                       return with_key(src, key, make_value(n + 7));
                     },
                     key});
  }
  for (const bool larger : {false, true}) {
    cases.push_back(
        {larger ? "vocabulary_larger_than_embedding" : "vocabulary_smaller_than_embedding",
         larger ? "olmoe-f32" : "qwen3moe-f32",
         [larger](const gguf::GgufFile& src) { return tokens_resized(src, larger); },
         "vocab_size"});
  }
  cases.push_back({"all_token_strings_empty", "llama-moe-q8_0",
                   [](const gguf::GgufFile& src) {
                     gguf::GgufWriter w = copy_model(src);
                     w.set_array("tokenizer.ggml.tokens",
                                 std::vector<std::string>(tokens_of(src).size()));
                     return w;
                   },
                   "tokenizer.ggml.tokens"});
  return cases;
}

class ModelValidation : public ::testing::TestWithParam<HostileModel> {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("moescope_model_validation_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  fs::path dir_;
};

TEST_P(ModelValidation, EveryCommandRefusesWithOneLineNamingTheDefect) {
  const HostileModel& c = GetParam();
  const auto src = gguf::GgufFile::open(model_path(c.base));
  const fs::path path = dir_ / (c.name + ".gguf");
  c.build(src).write(path);

  // The engine's one validation path.
  const auto file = gguf::GgufFile::open(path);
  const std::string problem = check_runnable(file);
  EXPECT_NE(problem.find(c.names), std::string::npos) << problem;
  EXPECT_FALSE(summarize_model(file).supported);

  const std::string model = path.string();
  const fs::path text = dir_ / "text.txt";
  std::ofstream(text) << "Hello world. The quick brown fox jumps over the lazy dog.\n";
  const std::vector<std::vector<std::string>> commands = {
      {"generate", "--model", model, "--prompt", "Hello", "-n", "2", "--threads", "1"},
      {"bench", "--model", model, "-p", "4", "-n", "2", "-r", "1", "-t", "1"},
      {"perplexity", "--model", model, "--file", text.string(), "--threads", "1"},
      {"eval", "--model", model, "--prompt", "Hello", "--dump-logits",
       (dir_ / "logits.bin").string()},
      {"record", "--model", model, "--prompt", "Hello", "-n", "2", "--trace",
       (dir_ / "t.trace").string(), "--quiet"},
  };
  for (const auto& args : commands) {
    SCOPED_TRACE(args[0]);
    const CliResult r = run_moescope(args);
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(count_lines(r.err), 1) << r.err;
    EXPECT_NE(r.err.find(c.names), std::string::npos) << r.err;
  }

  // `inspect` reports instead of failing, and must agree with generate.
  const CliResult r = run_moescope({"inspect", model});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("not supported"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(c.names), std::string::npos) << r.out;
  const CliResult json = run_moescope({"inspect", "--json", model});
  EXPECT_NE(json.out.find("\"supported\": false"), std::string::npos) << json.out;
}

INSTANTIATE_TEST_SUITE_P(Hostile, ModelValidation, ::testing::ValuesIn(hostile_models()),
                         [](const auto& info) { return info.param.name; });

// Validation must not reject a valid model: every reference model is supported and generates.
TEST(ModelValidationReference, EveryReferenceModelIsSupportedAndGenerates) {
  int checked = 0;
  for (const auto& entry : fs::directory_iterator(reference_dir() / "models")) {
    if (entry.path().extension() != ".gguf") continue;
    SCOPED_TRACE(entry.path().string());
    const auto file = gguf::GgufFile::open(entry.path());
    EXPECT_EQ(check_runnable(file), "");
    const CliResult r = run_moescope({"generate", "--model", entry.path().string(), "--prompt",
                                      "Hello", "-n", "2", "--threads", "1", "--quiet"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    ++checked;
  }
  EXPECT_GT(checked, 20);
}

}  // namespace
}  // namespace moescope::test
