#pragma once
// Control tokens (BOS, EOS, end-of-turn, unknown, ...) make no text of their own; the views show
// them by name as a badge. This classifies a token id with the model's vocabulary.
#include <cstdint>

#include "views/session/run_delta.h"

namespace moescope::tokenizer {
class Tokenizer;
}

namespace moescope::views {

// kNone for an ordinary token (or an id outside the vocabulary).
SpecialKind special_kind(const tokenizer::Tokenizer& tok, int32_t id);
// Marks `token` special when its id is a control token, naming it when it made no text.
void classify_token(const tokenizer::Tokenizer& tok, TokenInfo& token);

}  // namespace moescope::views
