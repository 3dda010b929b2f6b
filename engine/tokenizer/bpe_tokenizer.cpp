#include "engine/tokenizer/bpe_tokenizer.h"

#include <fmt/format.h>

#include "engine/common/error.h"
#include "engine/tokenizer/piece_merge.h"
#include "engine/tokenizer/unicode.h"

namespace moescope::tokenizer {

namespace {

const PreTokenizerSpec& spec_for(const Vocab& vocab) {
  const PreTokenizerSpec* spec = find_pre_tokenizer(vocab.pre);
  if (!spec) {
    fail("unsupported pre-tokenizer '{}' (supported: {})", vocab.pre, supported_pre_tokenizers());
  }
  return *spec;
}

}  // namespace

BpeTokenizer::BpeTokenizer(Vocab vocab)
    : Tokenizer(std::move(vocab)), pre_tokenizer_(spec_for(vocab_)) {
  build_piece_cache();
}

std::string BpeTokenizer::normal_piece(int32_t id) const {
  // Each code point of the token stands for one byte; llama.cpp marks any other code point.
  const std::string& text = vocab_.tokens[id];
  std::string piece;
  for (uint32_t cp : decode_utf8_lenient(text)) {
    const int byte = gpt2_text_to_byte(cp);
    if (byte >= 0) {
      piece.push_back(static_cast<char>(byte));
      continue;
    }
    piece += "[UNK_BYTE_0x";
    for (unsigned char c : encode_utf8(cp)) piece += fmt::format("{:02x}", c);
    piece += text + "]";
  }
  return piece;
}

void BpeTokenizer::encode_text(std::string_view text, bool /*after_special*/,
                               std::vector<int32_t>& out) const {
  std::string encoded;
  for (const std::string& word : pre_tokenizer_.split(text)) {
    encoded.clear();
    for (unsigned char byte : word) encoded.append(gpt2_byte_to_text(byte));
    encode_word(encoded, out);
  }
}

void BpeTokenizer::encode_word(std::string_view word, std::vector<int32_t>& out) const {
  if (word.empty()) return;
  if (vocab_.ignore_merges) {
    if (const int32_t id = vocab_.find(word); id != kNoToken) {
      out.push_back(id);
      return;
    }
  }

  const auto rank = [this](std::string_view left, std::string_view right,
                           std::string_view) -> std::optional<int32_t> {
    const int32_t r = vocab_.merge_rank(left, right);
    if (r < 0) return std::nullopt;
    return -r;  // the lowest rank merges first
  };
  merge_pieces(word, rank, [&](std::string_view piece) {
    if (const int32_t id = vocab_.find(piece); id != kNoToken) {
      out.push_back(id);
      return;
    }
    // A piece that is no token falls back to its single bytes, where those are tokens.
    for (char c : piece) {
      if (const int32_t id = vocab_.find(std::string_view(&c, 1)); id != kNoToken) {
        out.push_back(id);
      }
    }
  });
}

}  // namespace moescope::tokenizer
