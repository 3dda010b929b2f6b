#include "views/charts/policy_comparison_panel.h"

#include <QEvent>

#include <cmath>
#include <QHeaderView>
#include <QTabWidget>
#include <QTableView>
#include <QVBoxLayout>

#include "views/charts/line_chart.h"
#include "views/charts/policy_series.h"
#include "views/charts/policy_table_model.h"
#include "views/common/model_texts.h"
#include "views/common/view_export.h"
#include "views/session/analysis.h"
#include "views/session/session_controller.h"

namespace moescope::views {

PolicyComparisonPanel::PolicyComparisonPanel(SessionController* session, QWidget* parent)
    : QWidget(parent), session_(session) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  tabs_ = new QTabWidget(this);
  hit_rate_ = new LineChart(tabs_);
  hit_rate_->setObjectName("hitRateChart");
  hit_rate_->setYRange(0, 1);
  bytes_ = new LineChart(tabs_);
  bytes_->setObjectName("bytesChart");
  stall_ = new LineChart(tabs_);
  stall_->setObjectName("stallChart");
  tabs_->addTab(hit_rate_, QString());
  tabs_->addTab(bytes_, QString());
  tabs_->addTab(stall_, QString());
  table_model_ = new PolicyTableModel(session_, this);
  table_ = new QTableView(tabs_);
  table_->setObjectName("policyTable");
  table_->setModel(table_model_);
  table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  table_->verticalHeader()->hide();
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  tabs_->addTab(table_, QString());
  for (LineChart* c : {hit_rate_, bytes_, stall_}) {
    c->setXIsToken(true);
    new ViewExport(c, [c] { return c->exportTable(); }, c->objectName());
    connect(c, &LineChart::tokenClicked, session_->selection(), &Selection::setToken);
    connect(session_->selection(), &Selection::tokenChanged, c,
            [c](int t) { c->setMarkedX(t < 0 ? std::nan("") : double(t)); });
  }
  new ViewExport(
      table_, [this] { return table_from_model(*table_model_); }, "policies");
  layout->addWidget(tabs_);

  connect(session_, &SessionController::runStarted, this, &PolicyComparisonPanel::refresh);
  connect(session_, &SessionController::analysisUpdated, this, &PolicyComparisonPanel::refresh);
  retranslate();
}

void PolicyComparisonPanel::changeEvent(QEvent* event) {
  if (event->type() == QEvent::LanguageChange) retranslate();
  QWidget::changeEvent(event);
}

void PolicyComparisonPanel::retranslate() {
  tabs_->setTabText(0, tr("Hit rate"));
  tabs_->setTabText(1, tr("Bytes moved"));
  tabs_->setTabText(2, tr("Stall"));
  tabs_->setTabText(3, tr("Table"));
  hit_rate_->setTitle(tr("Cumulative hit rate over the decode tokens"));
  hit_rate_->setAxisTitles(tr("Token"), tr("Hit rate"));
  bytes_->setTitle(tr("Expert bytes loaded (demand and prefetch)"));
  bytes_->setAxisTitles(tr("Token"), tr("MiB"));
  stall_->setAxisTitles(tr("Token"), tr("ms"));
  retranslate_model(*table_model_);
  refresh();
}

void PolicyComparisonPanel::refresh() {
  for (LineChart* c : {hit_rate_, bytes_, stall_}) c->clearSeries();
  const auto& a = session_->run().analysis();
  // Without an emulated link loads take no modelled time: say so rather than draw flat lines.
  const QString link = a ? a->settings.link : session_->analysis_cache().link;
  stall_->setTitle(link == "none"
                       ? tr("Modelled stall: none without an emulated link (choose one in "
                            "Settings → Link)")
                       : tr("Modelled stall: time compute waited for loads"));
  if (!a) return;
  const int first = session_->run().prompt_count();
  const QList<QPair<LineChart*, CumulativeMeasure>> charts = {
      {hit_rate_, CumulativeMeasure::kHitRate},
      {bytes_, CumulativeMeasure::kBytes},
      {stall_, CumulativeMeasure::kStallMs}};
  for (size_t i = 0; i < a->policies.size(); ++i) {
    const PolicyRun& run = a->policies[i];
    if (!run.error.empty()) continue;
    SeriesStyle style{policy_color(run, int(i)), run.role == PolicyRun::Role::kBound,
                      run.role == PolicyRun::Role::kChosen ? 3.0 : 2.0};
    QString name = QString::fromStdString(run.spec);
    if (run.role == PolicyRun::Role::kChosen) name = tr("%1 (chosen)").arg(name);
    // Only a checked bound is called one (analysis.h, PolicyRun::bound).
    if (run.role == PolicyRun::Role::kBound) {
      name = run.bound ? tr("%1 (bound)").arg(name)
                       : tr("%1 (oracle without prefetch, not a bound)").arg(name);
    }
    for (const auto& [chart, measure] : charts) {
      chart->addSeries(name, cumulative_series(run.report, first, measure), style);
    }
  }
}

}  // namespace moescope::views
