#include "views/charts/capacity_curves_panel.h"

#include <QComboBox>
#include <QEvent>
#include <QHBoxLayout>
#include <QLabel>
#include <QVBoxLayout>

#include <algorithm>

#include "views/charts/line_chart.h"
#include "views/common/view_export.h"
#include "views/session/analysis.h"
#include "views/session/session_controller.h"

namespace moescope::views {
namespace {

// Per-layer partitions with c slots in every layer (capped at the layer's size), against c as a
// share of the largest layer.
QVector<QPointF> per_layer_curve(const policy::CurveSet& set, int only_layer, int max_experts) {
  QVector<QPointF> out;
  if (max_experts <= 0) return out;
  for (int c = 0; c <= max_experts; ++c) {
    int64_t hits = 0, accesses = 0;
    for (int l = 0; l < int(set.per_layer.size()); ++l) {
      if (only_layer >= 0 && l != only_layer) continue;
      const policy::HitCurve& h = set.per_layer[size_t(l)];
      const size_t cap = std::min<size_t>(size_t(c), h.hits[0].size() - 1);
      hits += h.hits_at(cap);
      accesses += h.total_accesses();
    }
    if (accesses > 0) out.append({100.0 * c / max_experts, double(hits) / double(accesses)});
  }
  return out;
}

QVector<QPointF> global_curve(const policy::HitCurve& h) {
  QVector<QPointF> out;
  const size_t n = h.hits[0].size();
  if (n < 2 || h.total_accesses() == 0) return out;
  for (size_t c = 0; c < n; ++c) out.append({100.0 * double(c) / double(n - 1), h.hit_rate(c)});
  return out;
}

}  // namespace

CapacityCurvesPanel::CapacityCurvesPanel(SessionController* session, QWidget* parent)
    : QWidget(parent), session_(session) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  auto* bar = new QHBoxLayout;
  scope_label_ = new QLabel(this);
  scope_ = new QComboBox(this);
  scope_->setObjectName("curveScope");
  scope_->setSizeAdjustPolicy(QComboBox::AdjustToContents);  // translations differ in length
  bar->addWidget(scope_label_);
  bar->addWidget(scope_);
  bar->addStretch(1);
  chart_ = new LineChart(this);
  chart_->setObjectName("capacityChart");
  chart_->setYRange(0, 1);
  chart_->setXRange(0, 100);
  layout->addLayout(bar);
  layout->addWidget(chart_, 1);
  new ViewExport(chart_, [c = chart_] { return c->exportTable(); }, "capacity-curves");
  connect(scope_, &QComboBox::currentIndexChanged, this, &CapacityCurvesPanel::refresh);
  connect(session_, &SessionController::analysisUpdated, this, &CapacityCurvesPanel::refresh);
  connect(session_, &SessionController::runStarted, this, [this] {
    const QSignalBlocker block(scope_);
    const int keep = scope_->currentIndex();
    while (scope_->count() > 1) scope_->removeItem(1);
    for (int l = 0; l < session_->run().n_layers(); ++l) scope_->addItem(tr("Layer %1").arg(l), l);
    scope_->setCurrentIndex(keep < scope_->count() ? std::max(0, keep) : 0);
    refresh();
  });
  scope_->addItem(QString(), -1);
  retranslate();
}

void CapacityCurvesPanel::changeEvent(QEvent* event) {
  if (event->type() == QEvent::LanguageChange) retranslate();
  QWidget::changeEvent(event);
}

void CapacityCurvesPanel::retranslate() {
  scope_label_->setText(tr("Layers"));
  scope_->setItemText(0, tr("All layers"));
  for (int i = 1; i < scope_->count(); ++i) {
    scope_->setItemText(i, tr("Layer %1").arg(scope_->itemData(i).toInt()));
  }
  chart_->setTitle(tr("Hit rate against cache capacity (one pass, every capacity)"));
  chart_->setAxisTitles(tr("Capacity (% of the experts)"), tr("Hit rate"));
  refresh();
}

void CapacityCurvesPanel::refresh() {
  chart_->clearSeries();
  const auto& a = session_->run().analysis();
  if (!a || !a->has(policy::kAnalysisCurves)) return;  // the curves are the analysis' last part
  const int layer = scope_->currentData().toInt();
  const int max_experts = session_->run().max_experts();
  chart_->addSeries(tr("LRU, per layer"), per_layer_curve(a->lru_curves, layer, max_experts),
                    {QColor(31, 119, 180), false, 2.0});
  // Each curve its own colour (the legend shows no dashes); OPT, the bound, dashed.
  chart_->addSeries(tr("OPT, per layer"), per_layer_curve(a->opt_curves, layer, max_experts),
                    {QColor(44, 160, 44), true, 2.0});
  if (layer < 0) {
    chart_->addSeries(tr("LRU, one pool"), global_curve(a->lru_curves.global),
                      {QColor(255, 127, 14), false, 2.0});
    chart_->addSeries(tr("OPT, one pool"), global_curve(a->opt_curves.global),
                      {QColor(148, 103, 189), true, 2.0});
  }
  const int64_t total = session_->run().shape().total_experts();
  const double budget = total > 0 ? 100.0 * double(a->budget_slots) / double(total) : 0.0;
  chart_->addVerticalMarker(budget, tr("budget (%1 experts)").arg(a->budget_slots),
                            QColor(214, 39, 40));
}

}  // namespace moescope::views
