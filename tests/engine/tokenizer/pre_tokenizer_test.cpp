// Pre-tokenizer splits against what the tokenizers' published regexes define, including the
// corners where llama.cpp departs from a plain PCRE reading (\s is Unicode White_Space, invalid
// UTF-8 becomes U+FFFD, `$` is the end of the piece).
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "engine/common/error.h"
#include "engine/tokenizer/pre_tokenizer.h"

namespace moescope::tokenizer {
namespace {

using Words = std::vector<std::string>;

Words split(std::string_view pre, std::string_view text) {
  const PreTokenizerSpec* spec = find_pre_tokenizer(pre);
  if (!spec) throw std::runtime_error("no pre-tokenizer " + std::string(pre));
  return PreTokenizer(*spec).split(text);
}

TEST(PreTokenizer, Gpt2WordsSpacesAndContractions) {
  EXPECT_EQ(split("gpt-2", "Hello world  !\t\tx"),
            (Words{"Hello", " world", " ", " !", "\t", "\t", "x"}));
  EXPECT_EQ(split("gpt-2", "don't we'll"), (Words{"don", "'t", " we", "'ll"}));
  EXPECT_EQ(split("gpt-2", "abc123 4.5"), (Words{"abc", "123", " 4", ".", "5"}));
  EXPECT_EQ(split("gpt-2", "end  "), (Words{"end", "  "}));
  EXPECT_EQ(split("gpt-2", ""), Words{});
}

TEST(PreTokenizer, NonAsciiWhitespaceIsWhitespace) {
  // U+00A0 and U+0085 (NEL) count as \s in llama.cpp; PCRE2's own \s would miss NEL.
  EXPECT_EQ(split("gpt-2", "a\u00A0\u00A0b"), (Words{"a", "\u00A0", "\u00A0", "b"}));
  EXPECT_EQ(split("gpt-2", "a\u0085\u0085b"), (Words{"a", "\u0085", "\u0085", "b"}));
}

TEST(PreTokenizer, InvalidUtf8BecomesReplacementCharacter) {
  EXPECT_EQ(split("gpt-2",
                  "a\xFF"
                  "b"),
            (Words{"a", "\uFFFD", "b"}));
  EXPECT_EQ(split("gpt-2", "\xE6\x97"), (Words{"\uFFFD\uFFFD"}));
}

TEST(PreTokenizer, RegexListsApplyInTurn) {
  // starcoder cuts every digit first; the GPT-2 regex then sees single digits.
  EXPECT_EQ(split("starcoder", "x 123"), (Words{"x", " ", "1", "2", "3"}));
  // falcon: punctuation runs first, then GPT-2 words, then groups of three ASCII digits.
  EXPECT_EQ(split("falcon", "a,b 12345"), (Words{"a", ",", "b", " ", "123", "45"}));
  EXPECT_EQ(split("default", "12345"), (Words{"123", "45"}));
}

TEST(PreTokenizer, DeepseekTrailingSpacesEndThePiece) {
  EXPECT_EQ(split("deepseek-llm", "ab  "), (Words{"ab", "  "}));
  EXPECT_EQ(split("deepseek-coder", "x\ny"), (Words{"x", "\n", "y"}));
}

TEST(PreTokenizer, LongWhitespaceRunsStayLinear) {
  const std::string text = std::string(200000, ' ') + "x";
  for (std::string_view pre : {"gpt-2", "deepseek-llm", "llama3", "deepseek-v3", "gpt-4o"}) {
    const auto start = std::chrono::steady_clock::now();
    const Words words = split(pre, text);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::string joined;
    for (const auto& w : words) joined += w;
    EXPECT_EQ(joined, text) << pre;
    EXPECT_LT(seconds, 5.0) << pre;
  }
}

TEST(PreTokenizer, EverySupportedNameCompiles) {
  const std::string names = supported_pre_tokenizers();
  size_t start = 0;
  size_t count = 0;
  while (start < names.size()) {
    size_t end = names.find(", ", start);
    if (end == std::string::npos) end = names.size();
    const std::string name = names.substr(start, end - start);
    const PreTokenizerSpec* spec = find_pre_tokenizer(name);
    ASSERT_NE(spec, nullptr) << name;
    const Words words = PreTokenizer(*spec).split("It's 2024: naïve café — 日本語 🦙!\n");
    std::string joined;
    for (const auto& w : words) joined += w;
    EXPECT_EQ(joined, "It's 2024: naïve café — 日本語 🦙!\n") << name;
    ++count;
    start = end + 2;
  }
  EXPECT_GE(count, 12u);
  EXPECT_EQ(find_pre_tokenizer("no-such-pre"), nullptr);
}

}  // namespace
}  // namespace moescope::tokenizer
