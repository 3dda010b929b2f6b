#include "storage/token_kind.h"

#include "engine/tokenizer/tokenizer.h"
#include "engine/tokenizer/vocab.h"

namespace moescope::storage {

TokenKind token_kind(const tokenizer::Tokenizer& tok, int32_t id) {
  const tokenizer::Vocab& v = tok.vocab();
  if (id < 0 || size_t(id) >= v.attrs.size()) return TokenKind::kNotRecorded;
  const uint32_t attrs = v.attrs[size_t(id)];
  if ((attrs & (tokenizer::kAttrControl | tokenizer::kAttrUnknown)) == 0) return TokenKind::kNormal;
  if (id == v.special.bos) return TokenKind::kBos;
  if (id == v.special.eos) return TokenKind::kEos;
  if (v.eog.contains(id)) return TokenKind::kEog;
  if (id == v.special.unk || (attrs & tokenizer::kAttrUnknown) != 0) return TokenKind::kUnknown;
  return TokenKind::kControl;
}

std::vector<TokenKind> token_kinds(const tokenizer::Tokenizer& tok, std::span<const int32_t> ids) {
  std::vector<TokenKind> out;
  out.reserve(ids.size());
  for (int32_t id : ids) out.push_back(token_kind(tok, id));
  return out;
}

}  // namespace moescope::storage
