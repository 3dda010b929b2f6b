#pragma once
// SentencePiece-style tokenization as llama.cpp's llm_tokenizer_spm does it: spaces become U+2581,
// the text is split into UTF-8 characters, and the adjacent pair whose concatenation is the
// highest-scoring token is merged until no pair forms a token; characters left outside every
// token are written as <0xXX> byte tokens.
#include <array>

#include "engine/tokenizer/tokenizer.h"

namespace moescope::tokenizer {

class SpmTokenizer final : public Tokenizer {
 public:
  explicit SpmTokenizer(Vocab vocab);

 protected:
  void encode_text(std::string_view text, bool after_special,
                   std::vector<int32_t>& out) const override;
  std::string normal_piece(int32_t id) const override;

 private:
  void append_bytes(std::string_view bytes, std::vector<int32_t>& out) const;

  std::array<int32_t, 256> byte_tokens_{};  // <0xXX> (or the one-byte token), kNoToken if none
};

}  // namespace moescope::tokenizer
