#include "engine/tokenizer/bpe_tokenizer.h"

#include <queue>

#include <fmt/format.h>

#include "engine/common/error.h"
#include "engine/tokenizer/unicode.h"

namespace moescope::tokenizer {

namespace {

struct Symbol {
  int prev;
  int next;
  size_t begin;  // bytes [begin, begin + size) of the encoded word
  size_t size;   // 0 once merged into the symbol on its left
};

struct Bigram {
  int left;
  int right;
  int32_t rank;
  size_t size;
};

// Lowest rank first; among equal ranks the leftmost pair.
struct BigramOrder {
  bool operator()(const Bigram& a, const Bigram& b) const {
    return a.rank > b.rank || (a.rank == b.rank && a.left > b.left);
  }
};

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

  std::vector<Symbol> symbols;
  for (size_t begin = 0; begin < word.size();) {
    const size_t size = std::min(utf8_sequence_length(word[begin]), word.size() - begin);
    const int index = static_cast<int>(symbols.size());
    symbols.push_back({index - 1, begin + size == word.size() ? -1 : index + 1, begin, size});
    begin += size;
  }

  std::priority_queue<Bigram, std::vector<Bigram>, BigramOrder> queue;
  auto try_pair = [&](int left, int right) {
    if (left == -1 || right == -1) return;
    const Symbol& l = symbols[left];
    const Symbol& r = symbols[right];
    const int32_t rank =
        vocab_.merge_rank(word.substr(l.begin, l.size), word.substr(r.begin, r.size));
    if (rank < 0) return;
    queue.push({left, right, rank, l.size + r.size});
  };
  for (int i = 1; i < static_cast<int>(symbols.size()); ++i) try_pair(i - 1, i);

  while (!queue.empty()) {
    const Bigram bigram = queue.top();
    queue.pop();
    Symbol& left = symbols[bigram.left];
    Symbol& right = symbols[bigram.right];
    // Stale once either side took part in another merge (one side is then empty or longer).
    if (left.size == 0 || right.size == 0 || left.size + right.size != bigram.size) continue;
    left.size += right.size;
    right.size = 0;
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = bigram.left;
    try_pair(left.prev, bigram.left);
    try_pair(bigram.left, left.next);
  }

  for (int i = 0; i != -1; i = symbols[i].next) {
    const std::string_view piece = word.substr(symbols[i].begin, symbols[i].size);
    if (const int32_t id = vocab_.find(piece); id != kNoToken) {
      out.push_back(id);
      continue;
    }
    // A piece that is no token falls back to its single bytes, where those are tokens.
    for (char c : piece) {
      if (const int32_t id = vocab_.find(std::string_view(&c, 1)); id != kNoToken) {
        out.push_back(id);
      }
    }
  }
}

}  // namespace moescope::tokenizer
