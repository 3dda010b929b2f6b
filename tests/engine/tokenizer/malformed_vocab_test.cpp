// Broken or unsupported vocabularies fail with one clear error naming the problem; a tiny
// hand-made vocabulary tokenizes as the SentencePiece and BPE algorithms define.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include <unistd.h>

#include "engine/common/error.h"
#include "engine/gguf/gguf_file.h"
#include "engine/gguf/gguf_writer.h"
#include "engine/tokenizer/tokenizer.h"

namespace moescope::tokenizer {
namespace {

using Ids = std::vector<int32_t>;
using Strings = std::vector<std::string>;

class MalformedVocab : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = std::filesystem::temp_directory_path() /
            ("moescope-vocab-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".gguf");
    // A valid SentencePiece vocabulary; tests break it.
    writer_.set_string("tokenizer.ggml.model", "llama");
    writer_.set_array("tokenizer.ggml.tokens",
                      Strings{"<unk>", "<s>", "</s>", "\u2581a", "b", "\u2581ab", "a"});
    writer_.set_array("tokenizer.ggml.scores",
                      std::vector<float>{0, 0, 0, -1.0f, -2.0f, -0.5f, -3.0f});
    writer_.set_array("tokenizer.ggml.token_type", std::vector<int32_t>{2, 3, 3, 1, 1, 1, 1});
  }
  void TearDown() override { std::filesystem::remove(path_); }

  std::unique_ptr<Tokenizer> load() {
    writer_.write(path_);
    return Tokenizer::from_gguf(gguf::GgufFile::open(path_));
  }
  // The error message of loading, or "" if it loads.
  std::string load_error() {
    try {
      load();
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  }

  std::filesystem::path path_;
  gguf::GgufWriter writer_;
};

TEST_F(MalformedVocab, ValidSentencePieceVocabulary) {
  const auto tokenizer = load();
  EXPECT_EQ(tokenizer->n_vocab(), 7);
  EXPECT_EQ(tokenizer->encode("ab", true, true), (Ids{1, 5}));  // "▁a"+"b" -> "▁ab"
  EXPECT_EQ(tokenizer->decode(Ids{1, 5}), " ab");  // BOS hides, and then keeps, the space
  EXPECT_EQ(tokenizer->decode(Ids{5}), "ab");
}

TEST_F(MalformedVocab, MissingModel) {
  gguf::GgufWriter empty;
  empty.set_string("general.architecture", "llama");
  writer_ = empty;
  EXPECT_NE(load_error().find("tokenizer.ggml.model is missing"), std::string::npos);
}

TEST_F(MalformedVocab, UnsupportedModelIsNamed) {
  writer_.set_string("tokenizer.ggml.model", "bert");
  const std::string error = load_error();
  EXPECT_NE(error.find("unsupported tokenizer model 'bert'"), std::string::npos) << error;
  EXPECT_NE(error.find("llama, gpt2"), std::string::npos) << error;
  EXPECT_NE(error.find(path_.filename().string()), std::string::npos) << error;
}

TEST_F(MalformedVocab, MissingTokens) {
  gguf::GgufWriter writer;
  writer.set_string("tokenizer.ggml.model", "llama");
  writer_ = writer;
  EXPECT_NE(load_error().find("tokenizer.ggml.tokens is missing"), std::string::npos);
}

TEST_F(MalformedVocab, TokensOfTheWrongType) {
  writer_.set_array("tokenizer.ggml.tokens", std::vector<int32_t>{1, 2, 3});
  EXPECT_NE(load_error().find("tokenizer.ggml.tokens must be an array of strings"),
            std::string::npos);
}

TEST_F(MalformedVocab, ScoresShorterThanTokens) {
  writer_.set_array("tokenizer.ggml.scores", std::vector<float>{0, 0});
  EXPECT_NE(load_error().find("tokenizer.ggml.scores has 2 entries for 7 tokens"),
            std::string::npos);
}

TEST_F(MalformedVocab, TokenTypesShorterOrWrong) {
  writer_.set_array("tokenizer.ggml.token_type", std::vector<int32_t>{1, 1});
  EXPECT_NE(load_error().find("tokenizer.ggml.token_type has 2 entries for 7 tokens"),
            std::string::npos);
  writer_.set_array("tokenizer.ggml.token_type", std::vector<float>{1, 1, 1, 1, 1, 1, 1});
  EXPECT_NE(load_error().find("tokenizer.ggml.token_type must be an array of int32"),
            std::string::npos);
}

TEST_F(MalformedVocab, DuplicateToken) {
  writer_.set_array("tokenizer.ggml.tokens",
                    Strings{"<unk>", "<s>", "</s>", "\u2581a", "b", "b", "a"});
  EXPECT_NE(load_error().find("duplicate token 'b'"), std::string::npos);
}

TEST_F(MalformedVocab, BosRequiredButAbsent) {
  writer_.set_array("tokenizer.ggml.tokens", Strings{"<unk>"});
  writer_.set_array("tokenizer.ggml.scores", std::vector<float>{0});
  writer_.set_array("tokenizer.ggml.token_type", std::vector<int32_t>{2});
  EXPECT_NE(load_error().find("add_bos_token is true but there is no BOS token"),
            std::string::npos);
}

TEST_F(MalformedVocab, BpeNeedsMergesAndAKnownPreTokenizer) {
  gguf::GgufWriter writer;
  writer.set_string("tokenizer.ggml.model", "gpt2");
  writer.set_array("tokenizer.ggml.tokens", Strings{"a", "b", "c", "ab", "bc", "abc"});
  writer_ = writer;
  EXPECT_NE(load_error().find("tokenizer.ggml.merges"), std::string::npos);
  writer_.set_array("tokenizer.ggml.merges", Strings{"b c", "a b", "a bc"});
  writer_.set_string("tokenizer.ggml.pre", "no-such-pre");
  const std::string error = load_error();
  EXPECT_NE(error.find("unsupported pre-tokenizer 'no-such-pre'"), std::string::npos) << error;
  EXPECT_NE(error.find("deepseek-llm"), std::string::npos) << error;  // lists the supported ones
}

TEST_F(MalformedVocab, BpeMergesByRank) {
  gguf::GgufWriter writer;
  writer.set_string("tokenizer.ggml.model", "gpt2");
  writer.set_string("tokenizer.ggml.pre", "gpt-2");
  writer.set_array("tokenizer.ggml.tokens", Strings{"a", "b", "c", "ab", "bc", "abc"});
  writer.set_array("tokenizer.ggml.merges", Strings{"b c", "a b", "a bc"});
  writer_ = writer;
  // "b c" has the best rank: a + bc, then "a bc" -> abc.
  EXPECT_EQ(load()->encode("abc", false, false), Ids{5});
  // With "a b" first the word ends as ab + c, since "ab c" is no merge.
  writer_.set_array("tokenizer.ggml.merges", Strings{"a b", "b c", "a bc"});
  EXPECT_EQ(load()->encode("abc", false, false), (Ids{3, 2}));
  // Bytes without a token are dropped, as in llama.cpp.
  EXPECT_EQ(load()->encode("ax", false, false), Ids{0});
}

}  // namespace
}  // namespace moescope::tokenizer
