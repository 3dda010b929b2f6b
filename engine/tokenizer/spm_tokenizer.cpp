#include "engine/tokenizer/spm_tokenizer.h"

#include <fmt/format.h>

#include "engine/common/error.h"
#include "engine/tokenizer/piece_merge.h"
#include "engine/tokenizer/unicode.h"

namespace moescope::tokenizer {

namespace {

constexpr std::string_view kSpaceMark = "\xE2\x96\x81";  // U+2581, SentencePiece's space

}  // namespace

SpmTokenizer::SpmTokenizer(Vocab vocab) : Tokenizer(std::move(vocab)) {
  for (int b = 0; b < 256; ++b) {
    int32_t id = vocab_.find(fmt::format("<0x{:02X}>", b));
    if (id == kNoToken) id = vocab_.find(std::string(1, static_cast<char>(b)));
    byte_tokens_[b] = id;
  }
  build_piece_cache();
}

std::string SpmTokenizer::normal_piece(int32_t id) const {
  const std::string& text = vocab_.tokens[id];
  std::string piece;
  piece.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    if (text.compare(i, kSpaceMark.size(), kSpaceMark) == 0) {
      piece.push_back(' ');
      i += kSpaceMark.size();
    } else {
      piece.push_back(text[i++]);
    }
  }
  return piece;
}

void SpmTokenizer::append_bytes(std::string_view bytes, std::vector<int32_t>& out) const {
  for (unsigned char b : bytes) {
    int32_t id = byte_tokens_[b];
    if (id == kNoToken) id = vocab_.special.unk;
    if (id == kNoToken) {
      fail("the vocabulary has no token for byte 0x{:02X} (no <0x{:02X}> and no unknown token)", b,
           b);
    }
    out.push_back(id);
  }
}

void SpmTokenizer::encode_text(std::string_view fragment, bool after_special,
                               std::vector<int32_t>& out) const {
  std::string text;
  text.reserve(fragment.size() * 3 + 3);
  if (vocab_.add_space_prefix && after_special) text.append(kSpaceMark);
  for (char c : fragment) {
    if (c == ' ') {
      text.append(kSpaceMark);
    } else {
      text.push_back(c);
    }
  }
  if (text.empty()) return;

  const auto score = [this](std::string_view, std::string_view,
                            std::string_view joined) -> std::optional<float> {
    const int32_t id = vocab_.find(joined);
    if (id == kNoToken) return std::nullopt;
    return vocab_.scores[id];
  };
  // Merged pieces are tokens by construction; a single character may not be one.
  merge_pieces(text, score, [&](std::string_view piece) {
    const int32_t id = vocab_.find(piece);
    if (id != kNoToken) {
      out.push_back(id);
    } else {
      append_bytes(piece, out);
    }
  });
}

}  // namespace moescope::tokenizer
