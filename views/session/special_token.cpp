#include "views/session/special_token.h"

#include <QString>

#include "engine/tokenizer/tokenizer.h"
#include "storage/token_kind.h"

namespace moescope::views {

SpecialKind special_kind(storage::TokenKind kind) {
  switch (kind) {
    case storage::TokenKind::kBos:
      return SpecialKind::kBos;
    case storage::TokenKind::kEos:
      return SpecialKind::kEos;
    case storage::TokenKind::kEog:
      return SpecialKind::kEog;
    case storage::TokenKind::kUnknown:
      return SpecialKind::kUnknown;
    case storage::TokenKind::kControl:
      return SpecialKind::kControl;
    case storage::TokenKind::kNormal:
    case storage::TokenKind::kNotRecorded:
      break;
  }
  return SpecialKind::kNone;
}

SpecialKind special_kind(const tokenizer::Tokenizer& tok, int32_t id) {
  return special_kind(storage::token_kind(tok, id));
}

void classify_token(const tokenizer::Tokenizer& tok, TokenInfo& token) {
  classify_token(storage::token_kind(tok, token.id), &tok, token);
}

void classify_token(storage::TokenKind kind, const tokenizer::Tokenizer* tok, TokenInfo& token) {
  token.special_kind = special_kind(kind);
  token.special = token.special_kind != SpecialKind::kNone;
  if (token.special && token.text.isEmpty()) {
    token.text = tok ? QString::fromStdString(tok->token_piece(token.id, true))
                     : QString::fromUtf8(storage::token_kind_name(kind).data(),
                                         qsizetype(storage::token_kind_name(kind).size()))
                           .toUpper();
  }
}

}  // namespace moescope::views
