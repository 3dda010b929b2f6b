#pragma once
// The selection every view shares: a token of the run, a MoE layer (which the text view colours
// by and the token x expert heatmap shows) and optionally one expert of that layer. Views set it
// on clicks and follow its signals; setting an unchanged value emits nothing, so views may echo.
#include <QObject>

namespace moescope::views {

class Selection : public QObject {
  Q_OBJECT
 public:
  explicit Selection(QObject* parent = nullptr) : QObject(parent) {}

  int token() const { return token_; }    // -1: none
  int layer() const { return layer_; }    // MoE layer, 0 by default
  int expert() const { return expert_; }  // expert of layer(), -1: none

 public Q_SLOTS:
  void setToken(int token);
  void setLayer(int layer);
  // Selects an expert and its layer together.
  void setExpert(int layer, int expert);
  void clear();

 Q_SIGNALS:
  void tokenChanged(int token);
  void layerChanged(int layer);
  void expertChanged(int layer, int expert);

 private:
  int token_ = -1;
  int layer_ = 0;
  int expert_ = -1;
};

}  // namespace moescope::views
