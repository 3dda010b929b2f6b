#pragma once
// What the session pipeline's tests share: the built-in model and its tokenizer, loaded once per
// suite (tests only read them), and a fresh scratch directory per test.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "engine/model/model.h"
#include "engine/tokenizer/tokenizer.h"

namespace moescope::storage::testing {

template <int kContext>
class SessionFixture : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ModelOptions options;
    options.n_threads = 2;
    options.n_ctx = kContext;
    const auto path =
        std::filesystem::path(MOESCOPE_SOURCE_DIR) / "resources/models/moescope-default-q8_0.gguf";
    model_ = Model::load(path.string(), options).release();
    tok_ = tokenizer::Tokenizer::from_gguf(model_->file()).release();
  }
  static void TearDownTestSuite() {
    delete tok_;
    delete model_;
  }
  void SetUp() override {
    const std::string suite =
        ::testing::UnitTest::GetInstance()->current_test_info()->test_suite_name();
    dir_ = std::filesystem::temp_directory_path() /
           ("moescope-" + suite + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static inline Model* model_ = nullptr;
  static inline tokenizer::Tokenizer* tok_ = nullptr;
  std::filesystem::path dir_;
};

}  // namespace moescope::storage::testing
