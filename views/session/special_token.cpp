#include "views/session/special_token.h"

#include <QString>

#include "engine/tokenizer/tokenizer.h"
#include "engine/tokenizer/vocab.h"

namespace moescope::views {

SpecialKind special_kind(const tokenizer::Tokenizer& tok, int32_t id) {
  const tokenizer::Vocab& v = tok.vocab();
  if (id < 0 || size_t(id) >= v.attrs.size()) return SpecialKind::kNone;
  if ((v.attrs[size_t(id)] & (tokenizer::kAttrControl | tokenizer::kAttrUnknown)) == 0)
    return SpecialKind::kNone;
  if (id == v.special.bos) return SpecialKind::kBos;
  if (id == v.special.eos) return SpecialKind::kEos;
  if (v.eog.contains(id)) return SpecialKind::kEog;
  if (id == v.special.unk || (v.attrs[size_t(id)] & tokenizer::kAttrUnknown) != 0)
    return SpecialKind::kUnknown;
  return SpecialKind::kControl;
}

void classify_token(const tokenizer::Tokenizer& tok, TokenInfo& token) {
  token.special_kind = special_kind(tok, token.id);
  token.special = token.special_kind != SpecialKind::kNone;
  if (token.special && token.text.isEmpty()) {
    token.text = QString::fromStdString(tok.token_piece(token.id, true));
  }
}

}  // namespace moescope::views
