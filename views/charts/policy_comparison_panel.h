#pragma once
// Live policy comparison: per policy over the decode tokens the cumulative hit rate, the bytes
// moved and the modelled stall, with the oracle references (belady-bypass, SCH) as dashed lines,
// called bounds only where they are (PolicyRun::bound), and a table of every policy's totals.
#include <QWidget>

class QTabWidget;
class QTableView;

namespace moescope::views {

class LineChart;
class PolicyTableModel;
class SessionController;

class PolicyComparisonPanel : public QWidget {
  Q_OBJECT
 public:
  explicit PolicyComparisonPanel(SessionController* session, QWidget* parent = nullptr);

  LineChart* hitRateChart() const { return hit_rate_; }
  LineChart* bytesChart() const { return bytes_; }
  LineChart* stallChart() const { return stall_; }
  PolicyTableModel* tableModel() const { return table_model_; }

 protected:
  void changeEvent(QEvent* event) override;

 private:
  void retranslate();
  void refresh();

  SessionController* session_;
  QTabWidget* tabs_;
  LineChart* hit_rate_;
  LineChart* bytes_;
  LineChart* stall_;
  PolicyTableModel* table_model_;
  QTableView* table_;
};

}  // namespace moescope::views
