#pragma once
// The status bar's run figures: decode speed, the chosen policy's hit rate and the share of time
// spent waiting for experts (measured with the real store, modelled otherwise).
#include <QWidget>

class QLabel;

namespace moescope::views {

class SessionController;

struct RunFigures {
  double tokens_per_second = 0;  // decode, 0 when unknown
  double hit_rate = -1;          // decode hit rate of the chosen policy, -1 when unknown
  double stall_share = -1;       // stall time / run time, -1 when unknown
  bool stall_measured = false;
  int generated = 0;
};

RunFigures run_figures(const SessionController& session);

class RunStatus : public QWidget {
  Q_OBJECT
 public:
  explicit RunStatus(SessionController* session, QWidget* parent = nullptr);
  const RunFigures& figures() const { return figures_; }

 protected:
  void changeEvent(QEvent* event) override;

 private:
  void refresh();

  SessionController* session_;
  RunFigures figures_;
  QLabel* speed_;
  QLabel* hit_rate_;
  QLabel* stall_;
};

}  // namespace moescope::views
