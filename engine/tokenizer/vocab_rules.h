#pragma once
// The rules llama.cpp applies to a vocabulary after reading it, because GGUF files do not carry
// them: tokens recognised by their text become end-of-turn / fill-in-the-middle / end-of-generation
// tokens (and control tokens), the special-token list for text matching is built, and Phi-3
// models strip the whitespace after their special tokens.
#include <string_view>

#include "engine/tokenizer/vocab.h"

namespace moescope::tokenizer {

// `model_name` is general.name.
void apply_token_rules(Vocab& vocab, std::string_view model_name);

}  // namespace moescope::tokenizer
