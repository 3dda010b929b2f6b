#pragma once
// The affinity graph with its threshold slider and the co-activation switch.
#include <QWidget>

class QCheckBox;
class QLabel;
class QSlider;

namespace moescope::views {

class AffinityGraphView;
class SessionController;

class AffinityPanel : public QWidget {
  Q_OBJECT
 public:
  explicit AffinityPanel(SessionController* session, QWidget* parent = nullptr);
  AffinityGraphView* graph() const { return graph_; }
  QSlider* thresholdSlider() const { return threshold_; }

 protected:
  void changeEvent(QEvent* event) override;

 private:
  void retranslate();

  AffinityGraphView* graph_;
  QLabel* threshold_label_;
  QSlider* threshold_;
  QLabel* threshold_value_;
  QCheckBox* coactivation_;
};

}  // namespace moescope::views
