#pragma once
// The token x expert heatmap of one layer: mixing weights per token, misses marked in red. The
// layer is the shared selection's; clicking a cell selects the token and the expert.
#include <QWidget>

class QLabel;
class QPushButton;
class QSpinBox;

namespace moescope::views {

class ColorLegend;
class HeatmapView;
class SessionController;
class TokenExpertModel;

class TokenExpertPanel : public QWidget {
  Q_OBJECT
 public:
  explicit TokenExpertPanel(SessionController* session, QWidget* parent = nullptr);
  TokenExpertModel* model() const { return model_; }
  HeatmapView* view() const { return view_; }

 protected:
  void changeEvent(QEvent* event) override;

 private:
  void retranslate();

  SessionController* session_;
  TokenExpertModel* model_;
  QLabel* layer_label_;
  QSpinBox* layer_;
  QPushButton* fit_;
  ColorLegend* legend_;
  QLabel* mark_note_;
  HeatmapView* view_;
};

}  // namespace moescope::views
