#include "views/status/run_status.h"

#include <QEvent>
#include <QHBoxLayout>
#include <QLabel>
#include <QLocale>

#include "views/common/format.h"
#include "views/session/analysis.h"
#include "views/session/session_controller.h"

namespace moescope::views {

RunFigures run_figures(const SessionController& session) {
  RunFigures f;
  const RunData& run = session.run();
  f.generated = run.token_count() - run.prompt_count();
  if (f.generated >= 2) {
    const double first = run.token(run.prompt_count()).elapsed_ms;
    const double last = run.token(run.token_count() - 1).elapsed_ms;
    if (last > first) f.tokens_per_second = (f.generated - 1) * 1000.0 / (last - first);
  }
  const auto& a = run.analysis();
  if (a && a->chosen() && a->chosen()->error.empty()) {
    const policy::CacheCounters& decode = a->chosen()->report.phase[1];
    const policy::CacheCounters total = a->chosen()->report.total();
    f.hit_rate = decode.accesses ? decode.hit_rate() : total.hit_rate();
    if (a->chosen()->report.end_ns > 0) {
      f.stall_share = double(total.stall_ns) / double(a->chosen()->report.end_ns);
    }
  }
  const double wall_ms = run.token_count() ? run.token(run.token_count() - 1).elapsed_ms : 0;
  if (run.routed_count() > 0 && run.stall_ns(0) >= 0 && wall_ms > 0) {
    f.stall_measured = true;
    f.stall_share = std::min(1.0, double(run.total_stall_ns()) / (wall_ms * 1e6));
  }
  return f;
}

RunStatus::RunStatus(SessionController* session, QWidget* parent)
    : QWidget(parent), session_(session) {
  auto* layout = new QHBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  speed_ = new QLabel(this);
  speed_->setObjectName("statusSpeed");
  hit_rate_ = new QLabel(this);
  hit_rate_->setObjectName("statusHitRate");
  stall_ = new QLabel(this);
  stall_->setObjectName("statusStall");
  for (QLabel* l : {speed_, hit_rate_, stall_}) {
    l->setFrameShape(QFrame::StyledPanel);
    l->setMinimumWidth(110);
    layout->addWidget(l);
  }
  connect(session_, &SessionController::runStarted, this, &RunStatus::refresh);
  connect(session_, &SessionController::runUpdated, this, &RunStatus::refresh);
  connect(session_, &SessionController::runFinished, this, &RunStatus::refresh);
  connect(session_, &SessionController::analysisUpdated, this, &RunStatus::refresh);
  refresh();
}

void RunStatus::changeEvent(QEvent* event) {
  if (event->type() == QEvent::LanguageChange) refresh();
  QWidget::changeEvent(event);
}

void RunStatus::refresh() {
  figures_ = run_figures(*session_);
  const QString none = QStringLiteral("–");
  speed_->setText(tr("%1 tokens/s")
                      .arg(figures_.tokens_per_second > 0
                               ? QLocale().toString(figures_.tokens_per_second, 'f', 1)
                               : none));
  speed_->setToolTip(tr("Decode speed of the current run"));
  hit_rate_->setText(
      tr("Hit rate %1").arg(figures_.hit_rate >= 0 ? format_percent(figures_.hit_rate) : none));
  hit_rate_->setToolTip(tr("Decode hit rate of the chosen policy"));
  stall_->setText(
      tr("Stall %1").arg(figures_.stall_share >= 0 ? format_percent(figures_.stall_share) : none));
  stall_->setToolTip(figures_.stall_measured
                         ? tr("Share of the run's time the forward pass waited for experts "
                              "(measured)")
                         : tr("Share of modelled time compute waited for expert loads"));
}

}  // namespace moescope::views
