#pragma once
// The one validation path for model files. Model::load runs check_model(); `inspect` runs
// check_runnable() to say "supported" exactly when generate would load the model, without
// allocating anything beyond the checked hyper-parameters and the small weight vectors.
#include <string>

#include "engine/gguf/gguf_file.h"
#include "engine/model/hparams.h"
#include "engine/model/weights.h"

namespace moescope {

struct CheckedModel {
  ModelHParams hp;
  ModelWeights weights;
};

// Hyper-parameters (read_hparams), the vocabulary they imply against the token list and the
// embedding, and every tensor the architecture needs (load_weights). Throws moescope::Error with
// one line naming the key or tensor at fault.
CheckedModel check_model(const gguf::GgufFile& file);

// check_model() plus the tokenizer the text commands build: what generate, bench, perplexity and
// record need. Returns the first problem, or an empty string when the model can run.
std::string check_runnable(const gguf::GgufFile& file);

}  // namespace moescope
