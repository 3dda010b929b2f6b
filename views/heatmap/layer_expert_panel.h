#pragma once
// The layer x expert heatmap with its measure selector and legend. Clicking a cell selects that
// expert (and its layer) everywhere; the selected token's path is outlined.
#include <QWidget>

class QComboBox;
class QLabel;
class QPushButton;

namespace moescope::views {

class ColorLegend;
class HeatmapView;
class LayerExpertModel;
class SessionController;

class LayerExpertPanel : public QWidget {
  Q_OBJECT
 public:
  explicit LayerExpertPanel(SessionController* session, QWidget* parent = nullptr);
  LayerExpertModel* model() const { return model_; }
  HeatmapView* view() const { return view_; }
  QComboBox* measureBox() const { return measure_; }

 protected:
  void changeEvent(QEvent* event) override;

 private:
  void retranslate();
  void updateLegend();

  SessionController* session_;
  LayerExpertModel* model_;
  QLabel* measure_label_;
  QComboBox* measure_;
  QPushButton* fit_;
  ColorLegend* legend_;
  HeatmapView* view_;
};

}  // namespace moescope::views
