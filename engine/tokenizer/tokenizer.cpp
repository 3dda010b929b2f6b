#include "engine/tokenizer/tokenizer.h"

#include "engine/common/error.h"
#include "engine/gguf/gguf_file.h"
#include "engine/tokenizer/bpe_tokenizer.h"
#include "engine/tokenizer/special_partition.h"
#include "engine/tokenizer/spm_tokenizer.h"

namespace moescope::tokenizer {

namespace {

// llama.cpp's clean_up_tokenization_spaces, three passes over the decoded bytes:
// " ?" " !" " ." " ," lose the space; a lone "'" between spaces loses both spaces; " 's" " 'm"
// " 're" " 've" lose the space.
void clean_spaces(std::string& text) {
  if (text.empty()) return;
  size_t n = 1;
  for (size_t i = 1; i < text.size(); ++i) {
    const char x = text[i];
    if (text[i - 1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ',')) --n;
    text[n++] = x;
  }
  text.resize(n);

  n = 1;
  for (size_t i = 1; i < text.size(); ++i) {
    const char x = text[i];
    if (x == '\'' && i + 1 < text.size() && text[i - 1] == ' ' && text[i + 1] == ' ') {
      --n;
      text[++i] = '\0';  // the space after is skipped, and no longer counts as a space
    }
    text[n++] = x;
  }
  text.resize(n);

  n = 1;
  for (size_t i = 1; i < text.size(); ++i) {
    const char x = text[i];
    if (text[i - 1] == ' ' && x == '\'' && i + 1 < text.size()) {
      const char x1 = text[i + 1];
      const char x2 = i + 2 < text.size() ? text[i + 2] : '\0';
      if (x1 == 's' || x1 == 'm' || (x1 == 'r' && x2 == 'e') || (x1 == 'v' && x2 == 'e')) --n;
    }
    text[n++] = x;
  }
  text.resize(n);
}

}  // namespace

std::unique_ptr<Tokenizer> Tokenizer::from_gguf(const gguf::GgufFile& file) {
  return from_vocab(Vocab::from_gguf(file));
}

std::unique_ptr<Tokenizer> Tokenizer::from_vocab(Vocab vocab) {
  if (vocab.model == VocabModel::Spm) return std::make_unique<SpmTokenizer>(std::move(vocab));
  return std::make_unique<BpeTokenizer>(std::move(vocab));
}

Tokenizer::Tokenizer(Vocab vocab) : vocab_(std::move(vocab)) {}

void Tokenizer::build_piece_cache() {
  pieces_.resize(vocab_.tokens.size());
  for (int32_t id = 0; id < vocab_.n_tokens(); ++id) {
    const uint32_t attr = vocab_.attrs[id];
    if (attr & (kAttrUnknown | kAttrControl | kAttrUserDefined)) {
      pieces_[id] = vocab_.tokens[id];
    } else if (attr & kAttrNormal) {
      pieces_[id] = normal_piece(id);
    } else if (attr & kAttrByte) {
      pieces_[id] = std::string(1, byte_token_value(vocab_.tokens[id]));
    }  // undefined and unused tokens render as nothing
  }
}

char Tokenizer::byte_token_value(std::string_view text) {
  // "<0xXX>"; like strtol on the two characters after "<0x".
  unsigned value = 0;
  for (size_t i = 3; i < 5 && i < text.size(); ++i) {
    const char c = text[i];
    unsigned digit;
    if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      digit = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      digit = c - 'A' + 10;
    } else {
      break;
    }
    value = value * 16 + digit;
  }
  return static_cast<char>(value);
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_special,
                                       bool parse_special) const {
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 2);
  if (add_special && vocab_.add_bos) out.push_back(vocab_.special.bos);
  bool after_special = true;
  for (const Fragment& fragment : partition_special_tokens(vocab_, text, parse_special)) {
    if (fragment.is_text()) {
      encode_text(text.substr(fragment.offset, fragment.length), after_special, out);
      after_special = false;
    } else {
      out.push_back(fragment.token);
      after_special = true;
    }
  }
  if (add_special && vocab_.add_eos) out.push_back(vocab_.special.eos);
  return out;
}

std::string Tokenizer::token_piece(int32_t id, bool render_special) const {
  if (id < 0 || id >= n_vocab()) {
    fail("token id {} is outside the vocabulary (n_vocab {})", id, n_vocab());
  }
  if (!render_special && vocab_.has_attr(id, kAttrUnknown | kAttrControl)) return {};
  return pieces_[id];
}

std::string Tokenizer::decode(std::span<const int32_t> ids, bool render_special) const {
  std::string text;
  bool strip_space = vocab_.add_space_prefix;  // only for the very first token
  for (int32_t id : ids) {
    const std::string piece = token_piece(id, render_special);
    const size_t skip = strip_space && !piece.empty() && piece[0] == ' ' ? 1 : 0;
    text.append(piece, skip);
    strip_space = false;
  }
  if (vocab_.clean_spaces) clean_spaces(text);
  return text;
}

}  // namespace moescope::tokenizer
