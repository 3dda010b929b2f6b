#include "engine/tokenizer/spm_tokenizer.h"

#include <queue>

#include <fmt/format.h>

#include "engine/common/error.h"
#include "engine/tokenizer/unicode.h"

namespace moescope::tokenizer {

namespace {

constexpr std::string_view kSpaceMark = "\xE2\x96\x81";  // U+2581, SentencePiece's space

struct Symbol {
  int prev;
  int next;
  size_t begin;  // bytes [begin, begin + size) of the escaped text
  size_t size;   // 0 once merged into the symbol on its left
};

struct Bigram {
  int left;
  int right;
  float score;
  size_t size;
};

// Highest score first; among equal scores the leftmost pair.
struct BigramOrder {
  bool operator()(const Bigram& a, const Bigram& b) const {
    return a.score < b.score || (a.score == b.score && a.left > b.left);
  }
};

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

  std::vector<Symbol> symbols;
  for (size_t begin = 0; begin < text.size();) {
    const size_t size = std::min(utf8_sequence_length(text[begin]), text.size() - begin);
    const int index = static_cast<int>(symbols.size());
    symbols.push_back({index - 1, begin + size == text.size() ? -1 : index + 1, begin, size});
    begin += size;
  }

  std::priority_queue<Bigram, std::vector<Bigram>, BigramOrder> queue;
  auto try_pair = [&](int left, int right) {
    if (left == -1 || right == -1) return;
    const size_t size = symbols[left].size + symbols[right].size;
    const int32_t id = vocab_.find(std::string_view(text).substr(symbols[left].begin, size));
    if (id == kNoToken) return;
    queue.push({left, right, vocab_.scores[id], size});
  };
  for (int i = 1; i < static_cast<int>(symbols.size()); ++i) try_pair(i - 1, i);

  while (!queue.empty()) {
    const Bigram bigram = queue.top();
    queue.pop();
    Symbol& left = symbols[bigram.left];
    Symbol& right = symbols[bigram.right];
    // A pair is stale once either side took part in another merge: one side is then empty or
    // longer, so the sizes no longer add up.
    if (left.size == 0 || right.size == 0 || left.size + right.size != bigram.size) continue;
    left.size += right.size;
    right.size = 0;
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = bigram.left;
    try_pair(left.prev, bigram.left);
    try_pair(bigram.left, left.next);
  }

  // Merged symbols are tokens by construction; a single character may not be one.
  for (int i = 0; i != -1; i = symbols[i].next) {
    const std::string_view piece = std::string_view(text).substr(symbols[i].begin, symbols[i].size);
    const int32_t id = vocab_.find(piece);
    if (id != kNoToken) {
      out.push_back(id);
    } else {
      append_bytes(piece, out);
    }
  }
}

}  // namespace moescope::tokenizer
