#pragma once
// A model opened by the GUI: the engine's model and tokenizer, the inspect summary, and the shape
// of its routed experts. Loaded on the engine thread; afterwards the GUI thread reads only the
// immutable parts (path, summary, shape), the engine thread alone runs the model.
#include <QString>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <vector>

#include "engine/model/hparams.h"
#include "engine/model/model.h"
#include "engine/model/model_summary.h"
#include "engine/policy/moe_shape.h"
#include "engine/tokenizer/tokenizer.h"

namespace moescope::views {

struct LoadedModel {
  std::filesystem::path path;
  std::unique_ptr<Model> model;
  std::unique_ptr<tokenizer::Tokenizer> tokenizer;
  ModelSummary summary;
  policy::MoeShape shape;  // MoE layers only (moe_layer / block convert to model blocks)
  GatingFunc gating = GatingFunc::Softmax;

  QString display_name() const;
  // Throws moescope::Error naming the file and the problem (including "has no routed experts").
  static std::shared_ptr<LoadedModel> load(const std::filesystem::path& path, int threads);
};

}  // namespace moescope::views
