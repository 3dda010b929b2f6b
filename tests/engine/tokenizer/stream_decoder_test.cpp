// Streaming detokenisation releases only whole UTF-8 characters, whatever the token boundaries.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/tokenizer/stream_decoder.h"
#include "reference_data.h"

namespace moescope::tokenizer::testing {
namespace {

const std::string kReplacement = "\uFFFD";

TEST(Utf8StreamDecoder, HoldsBackSplitCharacters) {
  Utf8StreamDecoder decoder;
  EXPECT_EQ(decoder.push("a\xE6\x97"), "a");  // 日 = E6 97 A5
  EXPECT_EQ(decoder.pending_bytes(), 2u);
  EXPECT_EQ(decoder.push("\xA5"), "日");
  const std::string llama = "\xF0\x9F\xA6\x99";  // U+1F999, one byte at a time
  EXPECT_EQ(decoder.push(llama.substr(0, 1)), "");
  EXPECT_EQ(decoder.push(llama.substr(1, 1)), "");
  EXPECT_EQ(decoder.push(llama.substr(2, 1)), "");
  EXPECT_EQ(decoder.push(llama.substr(3, 1)), llama);
  EXPECT_EQ(decoder.finish(), "");
}

TEST(Utf8StreamDecoder, KeepsExactlyTheUnfinishedCharacter) {
  struct Case {
    std::string bytes, released;
    size_t pending;
  };
  for (const Case& c : std::vector<Case>{
           {"", "", 0},
           {"abc", "abc", 0},
           {"a\xC3", "a", 1},
           {"a\xC3\xA9", "a\xC3\xA9", 0},
           {"\xE2\x82", "", 2},
           {"\xF0\x9F\x98", "", 3},
           {"\xF0\x9F\x98\x80", "\xF0\x9F\x98\x80", 0},
           // Stray continuation bytes: nothing to wait for.
           {"\x80\x80", kReplacement + kReplacement, 0},
       }) {
    Utf8StreamDecoder decoder;
    EXPECT_EQ(decoder.push(c.bytes), c.released);
    EXPECT_EQ(decoder.pending_bytes(), c.pending);
    Utf8StreamDecoder keeping(InvalidUtf8::kKeep);  // holds back the same bytes
    EXPECT_EQ(keeping.push(c.bytes), c.bytes.substr(0, c.bytes.size() - c.pending));
    EXPECT_EQ(keeping.pending_bytes(), c.pending);
  }
}

TEST(Utf8StreamDecoder, ReplacesBytesThatCanNeverBeText) {
  Utf8StreamDecoder decoder;
  EXPECT_EQ(decoder.push("\xFF"
                         "a"),
            kReplacement + "a");
  EXPECT_EQ(decoder.push("\xE6\x97"
                         "b"),
            kReplacement + "b");                                     // cut short by 'b'
  EXPECT_EQ(decoder.push("\xC0\xAF"), kReplacement + kReplacement);  // overlong '/'
  EXPECT_EQ(decoder.push("\xED\xA0\x80"), kReplacement + kReplacement + kReplacement);  // surrogate
  EXPECT_EQ(decoder.push("\xE6"), "");
  EXPECT_EQ(decoder.finish(), kReplacement);  // the stream ended inside a character
  EXPECT_EQ(decoder.pending_bytes(), 0u);
}

TEST(Utf8StreamDecoder, CanKeepBytesThatCanNeverBeText) {
  Utf8StreamDecoder decoder(InvalidUtf8::kKeep);
  EXPECT_EQ(decoder.push("\xFF"
                         "a"),
            "\xFF"
            "a");
  EXPECT_EQ(decoder.push("\xE6\x97"
                         "b"),
            "\xE6\x97"
            "b");
  EXPECT_EQ(decoder.push("\xC0\xAF"), "\xC0\xAF");
  EXPECT_EQ(decoder.push("\xED\xA0\x80"), "\xED\xA0\x80");
  EXPECT_EQ(decoder.push("\xE6"), "");  // still held back: the next byte may complete it
  EXPECT_EQ(decoder.push("\x97\xA5"), "日");
  EXPECT_EQ(decoder.push("\xF0\x9F"), "");
  EXPECT_EQ(decoder.finish(), "\xF0\x9F");
  EXPECT_EQ(decoder.pending_bytes(), 0u);
}

// Feeds ids one by one; returns the chunks.
std::vector<std::string> stream(const Tokenizer& tokenizer, const std::vector<int32_t>& ids) {
  TokenStreamDecoder decoder(tokenizer);
  std::vector<std::string> chunks;
  for (int32_t id : ids) chunks.push_back(decoder.push(id));
  chunks.push_back(decoder.finish());
  return chunks;
}

bool is_valid_utf8(const std::string& s) {
  Utf8StreamDecoder check;
  return check.push(s) == s && check.finish().empty();
}

TEST(TokenStreamDecoder, ByteTokensBecomeWholeCharacters) {
  // GPT-2 writes the llama emoji as three tokens that each carry part of its four bytes; the
  // reference ids come from llama.cpp.
  const Tokenizer& gpt2 = tokenizer_for("gpt-2");
  for (const auto& c : load_reference_cases("gpt-2")) {
    const auto chunks = stream(gpt2, c.ids_nobos);
    std::string joined;
    for (const auto& chunk : chunks) {
      EXPECT_TRUE(is_valid_utf8(chunk));
      joined += chunk;
    }
    std::string pieces;
    for (int32_t id : c.ids_nobos) pieces += gpt2.token_piece(id, false);
    EXPECT_EQ(joined, pieces) << c.text;
  }
  const auto chunks = stream(gpt2, {12520, 99, 247});  // " 🦙" in llama.cpp's ids
  EXPECT_EQ(chunks, (std::vector<std::string>{" ", "", "\xF0\x9F\xA6\x99", ""}));
}

TEST(TokenStreamDecoder, SentencePieceByteFallback) {
  const Tokenizer& spm = tokenizer_for("spm4096");
  const std::string text = "日本語のテキスト";
  const auto ids = spm.encode(text, false, true);
  const auto chunks = stream(spm, ids);
  std::string joined;
  size_t empty = 0;
  for (size_t i = 0; i + 1 < chunks.size(); ++i) {
    EXPECT_TRUE(is_valid_utf8(chunks[i]));
    empty += chunks[i].empty();
    joined += chunks[i];
  }
  EXPECT_EQ(joined, " " + text);  // the prefix space SentencePiece adds is part of the pieces
  EXPECT_GT(empty, 0u) << "a 4096-piece prose vocabulary spells CJK with byte tokens";
}

}  // namespace
}  // namespace moescope::tokenizer::testing
