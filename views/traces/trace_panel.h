#pragma once
// Traces: open a recorded trace file, browse its runs, show one as if it were live, or compare
// two runs aligned by token (the first divergent token, per-token differences).
#include <QString>
#include <QWidget>

class QLabel;
class QPushButton;
class QTableView;

namespace moescope::views {

class RunCompareModel;
class RunListModel;
class SessionController;

class TracePanel : public QWidget {
  Q_OBJECT
 public:
  explicit TracePanel(SessionController* session, QWidget* parent = nullptr);

  QString tracePath() const { return path_; }
  RunListModel* runsModel() const { return runs_; }
  RunCompareModel* compareModel() const { return compare_; }
  QTableView* runsView() const { return runs_view_; }

 public Q_SLOTS:
  // Lists the runs of `path` and shows its newest run.
  void openTrace(const QString& path);
  // Shows a file dialog for a trace.
  void chooseTrace();
  // Shows the run of the given row; compares the runs of two rows.
  void showRun(int row);
  void compareRuns(int row_a, int row_b);
  // Lists the runs of the open trace again (after a run was recorded into it).
  void refreshRuns();

 Q_SIGNALS:
  // A trace file is being opened (from the button, a drop or the menu).
  void opening(const QString& path);
  void runsListed();
  void comparisonReady();
  // The file could not be read, or holds no runs: nothing is shown from it.
  void openFailed(const QString& path, const QString& error);

 protected:
  void changeEvent(QEvent* event) override;

 private:
  void retranslate();
  void updateButtons();

  SessionController* session_;
  QString path_;
  QPushButton* open_;
  QLabel* file_;
  RunListModel* runs_;
  QTableView* runs_view_;
  QPushButton* show_;
  QPushButton* compare_button_;
  QLabel* summary_;
  RunCompareModel* compare_;
  QTableView* compare_view_;
};

}  // namespace moescope::views
