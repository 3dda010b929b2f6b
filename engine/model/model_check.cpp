#include "engine/model/model_check.h"

#include "engine/common/error.h"
#include "engine/tokenizer/tokenizer.h"
#include "engine/tokenizer/vocab.h"

namespace moescope {

CheckedModel check_model(const gguf::GgufFile& file) {
  CheckedModel m{read_hparams(file), {}};
  if (m.hp.n_vocab == 0) {
    // No vocab_size key and no token list: the embedding says how many tokens there are.
    const gguf::TensorInfo* embd = file.find_tensor("token_embd.weight");
    if (embd == nullptr) fail("{}: missing tensor 'token_embd.weight'", file.path().string());
    m.hp.n_vocab = embd->dim(1);
  }
  m.weights = load_weights(file, m.hp);
  // read_hparams sized the vocabulary from the token list, and load_weights checked the
  // embedding and output against it; the list must also hold usable tokens.
  if (file.has("tokenizer.ggml.tokens")) tokenizer::check_vocab_metadata(file);
  return m;
}

std::string check_runnable(const gguf::GgufFile& file) {
  try {
    check_model(file);
    tokenizer::Tokenizer::from_gguf(file);
  } catch (const Error& e) {
    return e.what();
  }
  return {};
}

}  // namespace moescope
