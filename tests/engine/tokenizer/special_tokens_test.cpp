// Special tokens in text, BOS/EOS, end-of-generation ids and piece rendering, checked against
// llama.cpp's documented rules on the reference vocabularies.
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "engine/common/error.h"
#include "reference_data.h"

namespace moescope::tokenizer::testing {
namespace {

using Ids = std::vector<int32_t>;

Ids concat(std::initializer_list<Ids> parts) {
  Ids out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

bool contains(const Ids& ids, int32_t id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

TEST(SpecialTokens, ControlTokensParsedOnlyOnRequest) {
  const Tokenizer& spm = tokenizer_for("spm4096");
  // After a special token SentencePiece starts a new text run, which gets its own space prefix.
  EXPECT_EQ(spm.encode("Hello<s>world", false, true),
            concat({spm.encode("Hello", false, false), {1}, spm.encode("world", false, false)}));
  EXPECT_FALSE(contains(spm.encode("Hello<s>world", false, false), 1));

  const Tokenizer& gpt2 = tokenizer_for("gpt-2");
  EXPECT_EQ(gpt2.encode("a<|endoftext|>b", false, true),
            concat({gpt2.encode("a", false, false), {50256}, gpt2.encode("b", false, false)}));
  EXPECT_FALSE(contains(gpt2.encode("a<|endoftext|>b", false, false), 50256));
}

TEST(SpecialTokens, UserDefinedTokensAlwaysMatch) {
  const Tokenizer& coder = tokenizer_for("deepseek-coder");
  const int32_t o_umlaut = coder.vocab().find("ö");
  ASSERT_NE(o_umlaut, kNoToken);
  EXPECT_TRUE(coder.vocab().has_attr(o_umlaut, kAttrUserDefined));
  EXPECT_TRUE(contains(coder.encode("xöy", false, false), o_umlaut));
  // "<｜fim▁begin｜>" is user-defined in the file, but llama.cpp recognises it as the
  // fill-in-the-middle prefix and makes it a control token: parsed only on request.
  const int32_t fim = coder.vocab().find("<\uFF5Cfim\u2581begin\uFF5C>");
  ASSERT_NE(fim, kNoToken);
  EXPECT_EQ(coder.vocab().special.fim_pre, fim);
  EXPECT_EQ(coder.encode("<\uFF5Cfim\u2581begin\uFF5C>", false, true), Ids{fim});
  EXPECT_FALSE(contains(coder.encode("<\uFF5Cfim\u2581begin\uFF5C>", false, false), fim));
}

TEST(SpecialTokens, Phi3SpecialTokensSwallowTheWhitespaceAfterThem) {
  const Tokenizer& phi3 = tokenizer_for("phi-3");
  const int32_t user = phi3.vocab().find("<|user|>");
  const int32_t end = phi3.vocab().find("<|end|>");
  ASSERT_NE(user, kNoToken);
  ASSERT_NE(end, kNoToken);
  EXPECT_EQ(phi3.encode("<|user|>  \nHello", false, true),
            concat({{user}, phi3.encode("Hello", false, false)}));
  // Nothing is stripped on the left.
  EXPECT_EQ(phi3.encode("Hi <|end|>", false, true),
            concat({phi3.encode("Hi ", false, false), {end}}));
}

TEST(SpecialTokens, BosAndEosFollowTheVocabulary) {
  EXPECT_EQ(tokenizer_for("spm4096").encode("", true, true), Ids{1});
  EXPECT_EQ(tokenizer_for("spm4096").encode("", false, true), Ids{});
  EXPECT_EQ(tokenizer_for("gpt-2").encode("", true, true), Ids{});  // GPT-2 adds no BOS
  const Tokenizer& llm = tokenizer_for("deepseek-llm");
  EXPECT_EQ(llm.encode("Hi", true, true).front(), llm.bos());
  EXPECT_EQ(llm.bos(), 100000);
}

TEST(SpecialTokens, EndOfGeneration) {
  EXPECT_TRUE(tokenizer_for("gpt-2").is_eog(50256));
  EXPECT_TRUE(tokenizer_for("llama-spm").is_eog(2));
  EXPECT_FALSE(tokenizer_for("llama-spm").is_eog(1));
  const Tokenizer& phi3 = tokenizer_for("phi-3");
  EXPECT_TRUE(phi3.is_eog(phi3.vocab().find("<|end|>")));
  EXPECT_TRUE(phi3.is_eog(phi3.vocab().find("<|endoftext|>")));
  EXPECT_FALSE(phi3.is_eog(phi3.vocab().find("<|user|>")));
}

TEST(SpecialTokens, PiecesRenderBytesAndOptionallySpecials) {
  const Tokenizer& spm = tokenizer_for("llama-spm");
  EXPECT_EQ(spm.token_piece(spm.vocab().find("<0x41>")), "A");
  EXPECT_EQ(spm.token_piece(spm.vocab().find("\u2581Hello")), " Hello");
  EXPECT_EQ(spm.token_piece(1, true), "<s>");
  EXPECT_EQ(spm.token_piece(1, false), "");
  const Tokenizer& gpt2 = tokenizer_for("gpt-2");
  EXPECT_EQ(gpt2.token_piece(gpt2.vocab().find("\u0120world")), " world");  // Ġ is the space byte
  EXPECT_EQ(gpt2.token_piece(50256, false), "");
  EXPECT_THROW(gpt2.token_piece(-1), Error);
  EXPECT_THROW(gpt2.token_piece(gpt2.n_vocab()), Error);
}

TEST(SpecialTokens, DecodeCleansSpacesWhereTheVocabularyAsks) {
  // GPT-2 cleans up spaces before punctuation on decode, DeepSeek does not.
  const Tokenizer& gpt2 = tokenizer_for("gpt-2");
  EXPECT_EQ(gpt2.decode(gpt2.encode("Hello , world ! it 's", false, true)), "Hello, world! it's");
  const Tokenizer& llm = tokenizer_for("deepseek-llm");
  EXPECT_EQ(llm.decode(llm.encode("Hello , world !", false, true)), "Hello , world !");
  // SentencePiece drops the space it put in front of the text.
  const Tokenizer& spm = tokenizer_for("spm4096");
  EXPECT_EQ(spm.decode(spm.encode("Hello there", false, true)), "Hello there");
}

}  // namespace
}  // namespace moescope::tokenizer::testing
