#pragma once
// "Suitability": is the model suited to expert offloading on the run's link, and at which cache
// size? The verdict, SRP(m) and SCH / LRU / Belady at k and 2k slots per layer, and the
// break-even hit rate, for the current run or an opened trace. The numbers come from the
// analysis worker (AnalysisResult::suitability); the panel only shows them.
#include <QWidget>

class QLabel;
class QTableView;

namespace moescope::views {

class SessionController;
class SuitabilityModel;

class SuitabilityPanel : public QWidget {
  Q_OBJECT
 public:
  explicit SuitabilityPanel(SessionController* session, QWidget* parent = nullptr);
  SuitabilityModel* model() const { return model_; }
  QLabel* verdictLabel() const { return verdict_; }
  QLabel* detailsLabel() const { return details_; }

 protected:
  void changeEvent(QEvent* event) override;

 private:
  void retranslate();
  void refresh();

  SessionController* session_;
  SuitabilityModel* model_;
  QLabel* verdict_;
  QTableView* table_;
  QLabel* details_;
};

}  // namespace moescope::views
