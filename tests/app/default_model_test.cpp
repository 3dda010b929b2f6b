// Where commands find the built-in model when no --model is given.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "app/cli/default_model.h"
#include "engine/common/error.h"

namespace moescope::cli {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class DefaultModel : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::path(::testing::TempDir()) /
            ("default_model_" +
             std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(root_);
    fs::create_directories(root_ / "prefix" / "bin");
    fs::create_directories(root_ / "src");
  }
  void TearDown() override { fs::remove_all(root_); }

  fs::path touch(const fs::path& p) {
    fs::create_directories(p.parent_path());
    std::ofstream(p) << "GGUF";
    return p;
  }
  ModelSearch search() const {
    ModelSearch s;
    s.bin_dir = root_ / "prefix" / "bin";
    s.source_dir = root_ / "src";
    return s;
  }
  fs::path installed() const {
    return root_ / "prefix" / "share" / "moescope" / "models" / kDefaultModelFile;
  }
  fs::path bundled() const { return root_ / "prefix" / "resources" / "models" / kDefaultModelFile; }
  fs::path in_source() const { return root_ / "src" / "resources" / "models" / kDefaultModelFile; }

  fs::path root_;
};

TEST_F(DefaultModel, LooksBesideTheBinaryThenInTheSourceTree) {
  EXPECT_EQ(default_model_candidates(search()),
            (std::vector<fs::path>{installed(), bundled(), in_source()}));
  touch(in_source());
  EXPECT_EQ(find_default_model(search()), in_source());
  touch(bundled());
  EXPECT_EQ(find_default_model(search()), bundled());
  touch(installed());
  EXPECT_EQ(find_default_model(search()), installed());
}

TEST_F(DefaultModel, EnvironmentVariableOverridesEverything) {
  touch(installed());
  const fs::path chosen = touch(root_ / "elsewhere" / "my.gguf");
  ModelSearch s = search();
  s.env = chosen.string();
  EXPECT_EQ(find_default_model(s), chosen);
}

TEST_F(DefaultModel, MissingEnvironmentModelIsAnErrorNotAFallback) {
  touch(installed());
  ModelSearch s = search();
  s.env = (root_ / "missing.gguf").string();
  try {
    find_default_model(s);
    FAIL() << "no error";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_THAT(what, HasSubstr("$MOESCOPE_MODEL"));
    EXPECT_THAT(what, HasSubstr("missing.gguf"));
    EXPECT_EQ(what.find('\n'), std::string::npos);
  }
}

TEST_F(DefaultModel, NothingFoundNamesEveryPlaceOnOneLine) {
  fs::create_directories(installed());  // a directory is not a model file
  try {
    find_default_model(search());
    FAIL() << "no error";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_THAT(what, HasSubstr(kDefaultModelFile));
    EXPECT_THAT(what, HasSubstr(installed().string()));
    EXPECT_THAT(what, HasSubstr(bundled().string()));
    EXPECT_THAT(what, HasSubstr(in_source().string()));
    EXPECT_THAT(what, HasSubstr("--model"));
    EXPECT_EQ(what.find('\n'), std::string::npos);
  }
}

TEST_F(DefaultModel, ThisProcessReadsTheEnvironmentAndItsOwnLocation) {
  ASSERT_EQ(setenv(kModelEnvVar, "/some/model.gguf", 1), 0);
  ModelSearch s = current_model_search();
  EXPECT_EQ(s.env, std::optional<std::string>("/some/model.gguf"));
  ASSERT_EQ(setenv(kModelEnvVar, "", 1), 0);  // empty counts as unset
  s = current_model_search();
  EXPECT_FALSE(s.env.has_value());
  ASSERT_EQ(unsetenv(kModelEnvVar), 0);
  EXPECT_TRUE(fs::equivalent(s.bin_dir, fs::canonical("/proc/self/exe").parent_path()));
  EXPECT_TRUE(fs::equivalent(s.source_dir, MOESCOPE_SOURCE_DIR));
}

}  // namespace
}  // namespace moescope::cli
