#pragma once
// Cuts the special tokens out of a text before it is tokenized, as llama.cpp's
// tokenizer_st_partition does: special tokens are tried longest first, every occurrence inside
// the text still uncut becomes that token, and the pieces between stay text. User-defined tokens
// are always cut out; control and unknown tokens only when `parse_special` is set. Tokens with
// the lstrip/rstrip attributes also swallow the ASCII whitespace before/after them.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "engine/tokenizer/vocab.h"

namespace moescope::tokenizer {

struct Fragment {
  int32_t token = kNoToken;  // a special token, or kNoToken for text
  size_t offset = 0;         // text: bytes [offset, offset + length) of the input
  size_t length = 0;

  bool is_text() const { return token == kNoToken; }
};

std::vector<Fragment> partition_special_tokens(const Vocab& vocab, std::string_view text,
                                               bool parse_special);

}  // namespace moescope::tokenizer
