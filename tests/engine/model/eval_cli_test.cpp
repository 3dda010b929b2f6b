// `moescope eval` end to end: the dumped logits equal llama.cpp's for the reference prompt, and
// bad input fails with one line, a non-zero exit and no output file. Skipped when the app is not
// built (MOESCOPE_BUILD_GUI=OFF).
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "tests/engine/model/reference.h"

namespace moescope::test {
namespace {

namespace fs = std::filesystem;

struct Result {
  int exit_code = -1;
  std::string err;
};

class EvalCli : public ::testing::Test {
 protected:
  void SetUp() override {
    binary_ = fs::path(MOESCOPE_BINARY_DIR) / "app" / "moescope";
    if (!fs::exists(binary_)) GTEST_SKIP() << "moescope binary not built";
    dir_ = fs::temp_directory_path() / ("moescope_eval_test_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }

  Result run(const std::string& args) {
    const fs::path err = dir_ / "stderr.txt";
    const std::string cmd = binary_.string() + " eval " + args + " >/dev/null 2>" + err.string();
    const int status = std::system(cmd.c_str());
    Result r;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    std::ifstream in(err);
    std::getline(in, r.err, '\0');
    return r;
  }

  static std::vector<float> read_floats(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::vector<float> v(fs::file_size(path) / sizeof(float));
    in.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(v.size() * 4));
    return v;
  }

  fs::path binary_;
  fs::path dir_;
};

TEST_F(EvalCli, TokenFileAndPromptGiveLlamaCppLogits) {
  const ReferenceRun ref = read_reference("llama-moe-f32");
  const fs::path tokens = dir_ / "tokens.txt";
  {
    std::ofstream out(tokens);
    for (int32_t t : ref.tokens) out << t << (t % 3 ? " " : "\n\t");
  }
  const fs::path out1 = dir_ / "a.f32";
  const std::string model = model_path("llama-moe-f32").string();
  Result r = run("--model " + model + " --tokens " + tokens.string() + " --dump-logits " +
                 out1.string() + " --threads 2");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto logits = read_floats(out1);
  ASSERT_EQ(logits.size(), ref.logits.size());
  EXPECT_LE(compare_logits(logits, ref.logits, ref.n_vocab).max_abs, 1e-3);

  // The prompt is tokenized with BOS, giving the same ids as the reference run.
  std::ifstream prompt_file(reference_dir() / "logits" / "prompt.txt");
  std::string prompt;
  std::getline(prompt_file, prompt);
  const fs::path out2 = dir_ / "b.f32";
  r = run("--model " + model + " --prompt '" + prompt + "' --dump-logits " + out2.string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_floats(out2).size(), ref.logits.size());
  EXPECT_LE(compare_logits(read_floats(out2), ref.logits, ref.n_vocab).max_abs, 1e-3);

  const fs::path out3 = dir_ / "c.f32";
  r = run("--model " + model + " --tokens " + tokens.string() + " --dump-logits " + out3.string() +
          " --exact");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const ReferenceRun exact = read_reference("llama-moe-f32", "exact");
  EXPECT_LE(compare_logits(read_floats(out3), exact.logits, exact.n_vocab).max_abs, 2e-3);
}

TEST_F(EvalCli, BadInputFailsCleanly) {
  const std::string model = model_path("llama-moe-f32").string();
  const fs::path out = dir_ / "out.f32";
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
    return (dir_ / name).string();
  };
  struct Case {
    std::string args;
    int exit_code;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"--model " + model + " --tokens " + write("big.txt", "1 2 4096") + " --dump-logits " +
           out.string(),
       1, "out of range"},
      {"--model " + model + " --tokens " + write("word.txt", "1 two") + " --dump-logits " +
           out.string(),
       1, "'two' is not a token id"},
      {"--model " + model + " --tokens " + write("empty.txt", " \n") + " --dump-logits " +
           out.string(),
       1, "no token ids"},
      {"--model " + model + " --dump-logits " + out.string(), 2, "--prompt"},
      {"--model " + model + " --prompt hi --tokens x --dump-logits " + out.string(), 2,
       "exactly one"},
      {"--model " + model + " --prompt hi", 2, "--dump-logits"},
      {"--model " + model + " --prompt hi --threads 0 --dump-logits " + out.string(), 2,
       "--threads"},
      {"--model " + (dir_ / "missing.gguf").string() + " --prompt hi --dump-logits " + out.string(),
       1, "missing.gguf"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.args);
    const Result r = run(c.args);
    EXPECT_EQ(r.exit_code, c.exit_code);
    EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_FALSE(fs::exists(out));
    EXPECT_FALSE(fs::exists(out.string() + ".tmp"));
  }
}

}  // namespace
}  // namespace moescope::test
