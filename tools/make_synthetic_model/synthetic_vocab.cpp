#include "tools/make_synthetic_model/synthetic_vocab.h"

#include <fmt/format.h>

#include <string_view>
#include <unordered_set>

#include "engine/common/error.h"

namespace moescope::tools {
namespace {

constexpr std::string_view kSpaceMark = "\xE2\x96\x81";  // U+2581, SentencePiece's space
constexpr int32_t kNormal = 1, kUnknown = 2, kControl = 3, kByte = 6;

// Candidate normal pieces in order of preference, an endless supply for any vocabulary size:
// "▁", the printable ASCII characters alone and after "▁", then lowercase letter strings of
// length 2, 3, ... each bare and after "▁".
class PieceSource {
 public:
  std::string next() {
    if (stage_ == 0) {
      stage_ = 1;
      return std::string(kSpaceMark);
    }
    if (stage_ == 1) {  // printable ASCII 0x21..0x7E, bare then with "▁"
      const int i = index_++;
      if (index_ == 2 * 94) {
        stage_ = 2;
        index_ = 0;
      }
      const std::string c(1, char(0x21 + i / 2));
      return i % 2 == 0 ? c : std::string(kSpaceMark) + c;
    }
    // Letter strings of `length_` letters, index_ / 2 in base 26, bare then with "▁".
    const int64_t i = index_++;
    std::string word(size_t(length_), 'a');
    int64_t n = i / 2;
    for (int64_t k = length_ - 1; k >= 0; --k, n /= 26) word[size_t(k)] = char('a' + n % 26);
    if (index_ == 2 * count_) {
      ++length_;
      count_ *= 26;
      index_ = 0;
    }
    return i % 2 == 0 ? word : std::string(kSpaceMark) + word;
  }

 private:
  int stage_ = 0;
  int64_t index_ = 0;
  int64_t length_ = 2;
  int64_t count_ = 26 * 26;
};

}  // namespace

SyntheticVocab make_synthetic_vocab(int64_t n_vocab) {
  if (n_vocab < 3) fail("a synthetic vocabulary needs at least 3 tokens, got {}", n_vocab);
  SyntheticVocab v;
  const auto add = [&](std::string text, float score, int32_t type) {
    v.tokens.push_back(std::move(text));
    v.scores.push_back(score);
    v.token_type.push_back(type);
  };
  add("<unk>", 0.0f, kUnknown);
  add("<s>", 0.0f, kControl);
  add("</s>", 0.0f, kControl);
  for (int b = 0; b < 256 && int64_t(v.tokens.size()) < n_vocab; ++b) {
    add(fmt::format("<0x{:02X}>", b), 0.0f, kByte);
  }
  std::unordered_set<std::string> seen(v.tokens.begin(), v.tokens.end());
  PieceSource source;
  while (int64_t(v.tokens.size()) < n_vocab) {
    std::string piece = source.next();
    if (!seen.insert(piece).second) continue;
    add(std::move(piece), -float(v.tokens.size()), kNormal);
  }
  return v;
}

void write_synthetic_vocab(gguf::GgufWriter& writer, int64_t n_vocab) {
  SyntheticVocab v = make_synthetic_vocab(n_vocab);
  writer.set_string("tokenizer.ggml.model", "llama");
  writer.set_array("tokenizer.ggml.tokens", std::move(v.tokens));
  writer.set_array("tokenizer.ggml.scores", std::move(v.scores));
  writer.set_array("tokenizer.ggml.token_type", std::move(v.token_type));
  writer.set_u32("tokenizer.ggml.unknown_token_id", 0);
  writer.set_u32("tokenizer.ggml.bos_token_id", 1);
  writer.set_u32("tokenizer.ggml.eos_token_id", 2);
  writer.set_bool("tokenizer.ggml.add_bos_token", true);
  writer.set_bool("tokenizer.ggml.add_eos_token", false);
}

}  // namespace moescope::tools
