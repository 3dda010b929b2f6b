#pragma once
// Control tokens (BOS, EOS, end-of-turn, unknown, ...) make no text of their own; the views show
// them by name as a badge. This classifies a token id with the model's vocabulary, or takes the
// kind a trace recorded (storage/token_kind.h classifies the same way).
#include <cstdint>

#include "storage/trace_types.h"
#include "views/session/run_delta.h"

namespace moescope::tokenizer {
class Tokenizer;
}

namespace moescope::views {

// kNone for an ordinary token (or an id outside the vocabulary).
SpecialKind special_kind(const tokenizer::Tokenizer& tok, int32_t id);
// The badge kind of a recorded token kind (kNone for normal and not recorded ones).
SpecialKind special_kind(storage::TokenKind kind);
// Marks `token` special when its id is a control token, naming it when it made no text.
void classify_token(const tokenizer::Tokenizer& tok, TokenInfo& token);
// The same from a recorded kind; `tok` (may be null) names a special token that made no text,
// else the kind's name does.
void classify_token(storage::TokenKind kind, const tokenizer::Tokenizer* tok, TokenInfo& token);

}  // namespace moescope::views
