#pragma once
// Text <-> token ids, giving llama.cpp's ids for the same GGUF vocabulary: SentencePiece-style
// (tokenizer.ggml.model = llama) and byte-level BPE (gpt2) with the pre-tokenizers that
// tokenizer.ggml.pre names. Thread-safe: all methods are const and keep no mutable state.
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/tokenizer/vocab.h"

namespace moescope::gguf {
class GgufFile;
}

namespace moescope::tokenizer {

class Tokenizer {
 public:
  // Throws moescope::Error naming the file: no or an unsupported tokenizer model, an unsupported
  // pre-tokenizer, a malformed vocabulary.
  static std::unique_ptr<Tokenizer> from_gguf(const gguf::GgufFile& file);
  static std::unique_ptr<Tokenizer> from_vocab(Vocab vocab);

  virtual ~Tokenizer() = default;
  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;

  // `add_special` adds BOS (and EOS) where the vocabulary asks for them (add_bos_token /
  // add_eos_token, or the model type's default), as llama_tokenize does. With `parse_special`,
  // control tokens written in the text (e.g. "<s>") become those tokens; user-defined tokens
  // always do.
  std::vector<int32_t> encode(std::string_view text, bool add_special, bool parse_special) const;

  // The bytes a token stands for. Control and unknown tokens render as their text, or as nothing
  // when !render_special. The bytes of one token may be part of a UTF-8 character.
  std::string token_piece(int32_t id, bool render_special = true) const;

  // Text of a token sequence, as llama.cpp's detokenizer writes it (the space SentencePiece adds
  // in front is dropped, and some vocabularies clean spaces before punctuation). Invalid UTF-8 is
  // possible when the ids cut a character.
  std::string decode(std::span<const int32_t> ids, bool render_special = false) const;

  int32_t bos() const { return vocab_.special.bos; }
  int32_t eos() const { return vocab_.special.eos; }
  int32_t eot() const { return vocab_.special.eot; }
  int32_t n_vocab() const { return vocab_.n_tokens(); }
  bool is_eog(int32_t id) const { return vocab_.eog.count(id) != 0; }
  const Vocab& vocab() const { return vocab_; }

 protected:
  explicit Tokenizer(Vocab vocab);
  // Appends the ids of one run of text holding no special token. `after_special` is true for the
  // first run and for runs that follow a special token.
  virtual void encode_text(std::string_view text, bool after_special,
                           std::vector<int32_t>& out) const = 0;
  // The bytes of a normal token.
  virtual std::string normal_piece(int32_t id) const = 0;
  // The byte of a <0xXX> byte token.
  static char byte_token_value(std::string_view text);
  void build_piece_cache();

  Vocab vocab_;

 private:
  std::vector<std::string> pieces_;  // [n_vocab] token_piece(id, true)
};

}  // namespace moescope::tokenizer
