// Every string of every reference vocabulary must tokenize to llama.cpp's ids, with and without
// BOS; ids decode back to the text wherever llama.cpp's detokenizer reproduces it.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "reference_data.h"

namespace moescope::tokenizer::testing {
namespace {

class ReferenceTest : public ::testing::TestWithParam<std::string> {};

std::string describe(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

TEST_P(ReferenceTest, IdsEqualLlamaTokenize) {
  const Tokenizer& tokenizer = tokenizer_for(GetParam());
  const auto cases = load_reference_cases(GetParam());
  ASSERT_FALSE(cases.empty());
  size_t passed = 0;
  for (const auto& c : cases) {
    const auto with_bos = tokenizer.encode(c.text, /*add_special=*/true, /*parse_special=*/true);
    const auto without_bos = tokenizer.encode(c.text, false, true);
    EXPECT_EQ(with_bos, c.ids_bos) << GetParam() << " with BOS: '" << describe(c.text) << "'";
    EXPECT_EQ(without_bos, c.ids_nobos)
        << GetParam() << " without BOS: '" << describe(c.text) << "'";
    passed += with_bos == c.ids_bos && without_bos == c.ids_nobos;
  }
  std::printf("[ reference ] %-15s %zu/%zu strings match llama.cpp\n", GetParam().c_str(), passed,
              cases.size());
}

// llama.cpp's own tokenizer test files, for the vocabularies that come with them.
class LlamaCppTestFiles : public ::testing::TestWithParam<std::string> {};

TEST_P(LlamaCppTestFiles, IdsEqualTheOutFile) {
  const auto cases = load_inp_out_cases(GetParam());
  ASSERT_FALSE(cases.empty()) << GetParam() << ": no .inp/.out files";
  const Tokenizer& tokenizer = tokenizer_for(GetParam());
  size_t passed = 0;
  for (const auto& c : cases) {
    const auto ids = tokenizer.encode(c.text, false, true);
    EXPECT_EQ(ids, c.ids) << GetParam() << ": '" << describe(c.text) << "'";
    passed += ids == c.ids;
  }
  std::printf("[ .inp/.out ] %-15s %zu/%zu strings match\n", GetParam().c_str(), passed,
              cases.size());
}

// Would llama.cpp's clean-up of spaces before punctuation change this text?
bool touched_by_space_cleanup(const std::string& text) {
  for (std::string_view pattern : {" ?", " !", " .", " ,", " '"}) {
    if (text.find(pattern) != std::string::npos) return true;
  }
  return false;
}

TEST_P(ReferenceTest, ReferenceIdsDecodeToTheText) {
  const Tokenizer& tokenizer = tokenizer_for(GetParam());
  size_t checked = 0;
  for (const auto& c : load_reference_cases(GetParam())) {
    if (tokenizer.vocab().clean_spaces && touched_by_space_cleanup(c.text)) continue;
    EXPECT_EQ(tokenizer.decode(c.ids_nobos), c.text)
        << GetParam() << ": '" << describe(c.text) << "'";
    // Piece by piece the bytes are the same, whatever the character boundaries.
    std::string joined;
    for (int32_t id : c.ids_nobos) joined += tokenizer.token_piece(id);
    if (!tokenizer.vocab().add_space_prefix && !tokenizer.vocab().clean_spaces) {
      EXPECT_EQ(joined, c.text);
    }
    ++checked;
  }
  EXPECT_GT(checked, 0u);
}

std::string test_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string name = info.param;
  for (char& c : name) {
    if (c == '-') c = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(Vocabularies, ReferenceTest, ::testing::ValuesIn(kVocabNames), test_name);
INSTANTIATE_TEST_SUITE_P(Vocabularies, LlamaCppTestFiles,
                         ::testing::Values("llama-spm", "gpt-2", "phi-3", "refact", "deepseek-llm",
                                           "deepseek-coder", "falcon", "starcoder", "mpt"),
                         test_name);

}  // namespace
}  // namespace moescope::tokenizer::testing
