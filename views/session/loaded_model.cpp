#include "views/session/loaded_model.h"

#include "engine/offload/expert_layout.h"

namespace moescope::views {

QString LoadedModel::display_name() const {
  if (!summary.name.empty()) return QString::fromStdString(summary.name);
  return QString::fromStdString(path.filename().string());
}

std::shared_ptr<LoadedModel> LoadedModel::load(const std::filesystem::path& path, int threads) {
  auto out = std::make_shared<LoadedModel>();
  out->path = path;
  ModelOptions options;
  options.n_threads = threads;
  out->model = Model::load(path, options);
  out->summary = summarize_model(out->model->file());
  out->tokenizer = tokenizer::Tokenizer::from_gguf(out->model->file());
  const ModelHParams& hp = out->model->hparams();
  out->gating = hp.gating;
  const offload::ExpertLayout layout(out->model->file(), out->model->expert_tensors(),
                                     int32_t(hp.n_expert_used));
  out->shape = layout.shape();
  return out;
}

}  // namespace moescope::views
