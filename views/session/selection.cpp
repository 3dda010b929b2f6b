#include "views/session/selection.h"

namespace moescope::views {

void Selection::setToken(int token) {
  if (token < -1) token = -1;
  if (token == token_) return;
  token_ = token;
  Q_EMIT tokenChanged(token_);
}

void Selection::setLayer(int layer) {
  if (layer < 0 || layer == layer_) return;
  layer_ = layer;
  Q_EMIT layerChanged(layer_);
  if (expert_ >= 0) {
    expert_ = -1;
    Q_EMIT expertChanged(layer_, expert_);
  }
}

void Selection::setExpert(int layer, int expert) {
  if (layer < 0) return;
  const bool layer_changed = layer != layer_;
  if (!layer_changed && expert == expert_) return;
  layer_ = layer;
  expert_ = expert < 0 ? -1 : expert;
  if (layer_changed) Q_EMIT layerChanged(layer_);
  Q_EMIT expertChanged(layer_, expert_);
}

void Selection::clear() {
  setToken(-1);
  if (expert_ >= 0) {
    expert_ = -1;
    Q_EMIT expertChanged(layer_, expert_);
  }
}

}  // namespace moescope::views
