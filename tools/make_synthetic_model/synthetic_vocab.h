#pragma once
// A SentencePiece ("llama") vocabulary for the synthetic models, laid out as Llama's: <unk>, <s>,
// </s>, the 256 byte-fallback tokens <0x00>..<0xFF>, then normal pieces ("▁" words, letters,
// letter pairs and triples). With n_vocab >= 259 every text round-trips through it (bytes no piece
// covers fall back to byte tokens); smaller vocabularies keep the first bytes only and map the
// rest to <unk>. Written so that MoEScope and llama.cpp / ik_llama.cpp both load the file (they
// require tokenizer.ggml.tokens with exactly n_vocab entries, the output matrix's rows).
#include <cstdint>
#include <string>
#include <vector>

#include "engine/gguf/gguf_writer.h"

namespace moescope::tools {

struct SyntheticVocab {
  std::vector<std::string> tokens;
  std::vector<float> scores;        // SentencePiece log-probabilities: shorter/earlier = likelier
  std::vector<int32_t> token_type;  // tokenizer.ggml.token_type (1 normal, 2 unknown, 3 control,
                                    // 6 byte)
};

// Exactly n_vocab distinct tokens (n_vocab >= 3).
SyntheticVocab make_synthetic_vocab(int64_t n_vocab);
// Sets tokenizer.ggml.* (model "llama", tokens, scores, token types, unk/bos/eos ids 0/1/2).
void write_synthetic_vocab(gguf::GgufWriter& writer, int64_t n_vocab);

}  // namespace moescope::tools
