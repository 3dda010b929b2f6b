#pragma once
// A token id's kind as a trace records it (tokens.kind), from the tokenizer's token types: control
// and unknown-type tokens are special (BOS, EOS, another end-of-generation token, the unknown
// placeholder, or another control token); every other id in the vocabulary is normal.
#include <cstdint>
#include <span>
#include <vector>

#include "storage/trace_types.h"

namespace moescope::tokenizer {
class Tokenizer;
}

namespace moescope::storage {

// kNotRecorded for an id outside the vocabulary (or negative).
TokenKind token_kind(const tokenizer::Tokenizer& tok, int32_t id);
std::vector<TokenKind> token_kinds(const tokenizer::Tokenizer& tok, std::span<const int32_t> ids);

}  // namespace moescope::storage
