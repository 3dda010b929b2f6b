#pragma once
// The merge loop both tokenizers share (llama.cpp's llm_tokenizer_spm and llm_tokenizer_bpe):
// split the text into UTF-8 characters, then repeatedly join the best adjacent pair of pieces
// until no pair may be joined. They differ only in what "best" is: SentencePiece takes the pair
// whose joined piece has the highest vocabulary score, BPE the pair with the lowest merge rank.
#include <algorithm>
#include <optional>
#include <queue>
#include <string_view>
#include <type_traits>
#include <vector>

#include "engine/tokenizer/unicode.h"

namespace moescope::tokenizer {

// `priority(left, right, joined)` says how early two adjacent pieces merge (higher first; among
// equal priorities the leftmost pair), or std::nullopt if they may not; `joined` is the two as one
// view of `text`. Calls `emit(piece)` for every final piece, left to right.
template <typename Priority, typename Emit>
void merge_pieces(std::string_view text, Priority priority, Emit emit) {
  using Key = typename std::invoke_result_t<Priority, std::string_view, std::string_view,
                                            std::string_view>::value_type;
  struct Piece {
    int prev;
    int next;
    size_t begin;  // bytes [begin, begin + size) of text
    size_t size;   // 0 once merged into the piece on its left
  };
  struct Pair {
    int left;
    int right;
    Key key;
    size_t size;
  };
  struct PairOrder {
    bool operator()(const Pair& a, const Pair& b) const {
      return a.key < b.key || (a.key == b.key && a.left > b.left);
    }
  };
  if (text.empty()) return;

  std::vector<Piece> pieces;
  for (size_t begin = 0; begin < text.size();) {
    const size_t size = std::min(utf8_sequence_length(text[begin]), text.size() - begin);
    const int index = static_cast<int>(pieces.size());
    pieces.push_back({index - 1, begin + size == text.size() ? -1 : index + 1, begin, size});
    begin += size;
  }

  std::priority_queue<Pair, std::vector<Pair>, PairOrder> queue;
  auto try_pair = [&](int left, int right) {
    if (left == -1 || right == -1) return;
    const Piece& l = pieces[left];
    const Piece& r = pieces[right];
    const std::optional<Key> key =
        priority(text.substr(l.begin, l.size), text.substr(r.begin, r.size),
                 text.substr(l.begin, l.size + r.size));
    if (key) queue.push({left, right, *key, l.size + r.size});
  };
  for (int i = 1; i < static_cast<int>(pieces.size()); ++i) try_pair(i - 1, i);

  while (!queue.empty()) {
    const Pair pair = queue.top();
    queue.pop();
    Piece& left = pieces[pair.left];
    Piece& right = pieces[pair.right];
    // A pair is stale once either side took part in another merge: one side is then empty or
    // longer, so the sizes no longer add up.
    if (left.size == 0 || right.size == 0 || left.size + right.size != pair.size) continue;
    left.size += right.size;
    right.size = 0;
    left.next = right.next;
    if (right.next >= 0) pieces[right.next].prev = pair.left;
    try_pair(left.prev, pair.left);
    try_pair(pair.left, left.next);
  }

  for (int i = 0; i != -1; i = pieces[i].next) emit(text.substr(pieces[i].begin, pieces[i].size));
}

}  // namespace moescope::tokenizer
