#pragma once
// Hit rate against cache capacity for every capacity at once (one pass over the access stream:
// LRU by stack distances, OPT by the OPT stack), per layer or for one shared pool, with the
// current budget marked.
#include <QWidget>

class QComboBox;
class QLabel;

namespace moescope::views {

class LineChart;
class SessionController;

class CapacityCurvesPanel : public QWidget {
  Q_OBJECT
 public:
  explicit CapacityCurvesPanel(SessionController* session, QWidget* parent = nullptr);
  LineChart* chart() const { return chart_; }

 protected:
  void changeEvent(QEvent* event) override;

 private:
  void retranslate();
  void refresh();

  SessionController* session_;
  QLabel* scope_label_;
  QComboBox* scope_;
  LineChart* chart_;
};

}  // namespace moescope::views
