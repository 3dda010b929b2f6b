#pragma once
// Byte-level BPE as llama.cpp's llm_tokenizer_bpe does it: the pre-tokenizer cuts the text into
// words, each word's bytes are written in GPT-2's byte alphabet, and within a word the adjacent
// pair with the lowest merge rank is merged until no pair has a rank.
#include "engine/tokenizer/pre_tokenizer.h"
#include "engine/tokenizer/tokenizer.h"

namespace moescope::tokenizer {

class BpeTokenizer final : public Tokenizer {
 public:
  explicit BpeTokenizer(Vocab vocab);

 protected:
  void encode_text(std::string_view text, bool after_special,
                   std::vector<int32_t>& out) const override;
  std::string normal_piece(int32_t id) const override;

 private:
  void encode_word(std::string_view word, std::vector<int32_t>& out) const;

  PreTokenizer pre_tokenizer_;
};

}  // namespace moescope::tokenizer
