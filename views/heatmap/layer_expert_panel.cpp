#include "views/heatmap/layer_expert_panel.h"

#include <QComboBox>
#include <QEvent>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QVBoxLayout>

#include "views/common/color_legend.h"
#include "views/common/format.h"
#include "views/common/model_texts.h"
#include "views/common/view_export.h"
#include "views/heatmap/heatmap_roles.h"
#include "views/heatmap/heatmap_view.h"
#include "views/heatmap/layer_expert_model.h"
#include "views/session/session_controller.h"

namespace moescope::views {

LayerExpertPanel::LayerExpertPanel(SessionController* session, QWidget* parent)
    : QWidget(parent), session_(session) {
  model_ = new LayerExpertModel(session_, this);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  auto* bar = new QHBoxLayout;
  measure_label_ = new QLabel(this);
  measure_ = new QComboBox(this);
  measure_->setObjectName("layerExpertMeasure");
  measure_->setSizeAdjustPolicy(QComboBox::AdjustToContents);  // translations differ in length
  for (int i = 0; i < 3; ++i) measure_->addItem(QString(), i);
  fit_ = new QPushButton(this);
  legend_ = new ColorLegend(this);
  bar->addWidget(measure_label_);
  bar->addWidget(measure_);
  bar->addWidget(fit_);
  bar->addWidget(legend_, 1);
  view_ = new HeatmapView(this);
  view_->setObjectName("layerExpertHeatmap");
  view_->setModel(model_);
  layout->addLayout(bar);
  layout->addWidget(view_, 1);

  connect(measure_, &QComboBox::currentIndexChanged, this, [this](int i) {
    model_->setMeasure(LayerExpertModel::Measure(measure_->itemData(i).toInt()));
    updateLegend();
  });
  connect(fit_, &QPushButton::clicked, view_, &HeatmapView::fit);
  new ViewExport(
      view_, [this] { return table_from_model(*model_, kRawValueRole, true); }, "layer-expert");
  connect(view_, &HeatmapView::cellClicked, this,
          [this](int row, int column) { session_->selection()->setExpert(row, column); });
  connect(session_, &SessionController::runUpdated, this, &LayerExpertPanel::updateLegend);
  retranslate();
}

void LayerExpertPanel::changeEvent(QEvent* event) {
  if (event->type() == QEvent::LanguageChange) retranslate();
  QWidget::changeEvent(event);
}

void LayerExpertPanel::retranslate() {
  measure_label_->setText(tr("Show"));
  measure_->setItemText(0, tr("Activations"));
  measure_->setItemText(1, tr("Hit rate"));
  measure_->setItemText(2, tr("Residency"));
  measure_->setToolTip(
      tr("Activations: how often the router chose the expert. Hit rate: share "
         "of its accesses the chosen policy served from the cache. Residency: "
         "share of the run it spent in the cache."));
  fit_->setText(tr("Fit"));
  fit_->setToolTip(tr("Fit the grid to the view (0); zoom with Ctrl+wheel or +/-, drag to pan"));
  retranslate_model(*model_);
  updateLegend();
}

void LayerExpertPanel::updateLegend() {
  switch (model_->measure()) {
    case LayerExpertModel::Measure::kActivations:
      legend_->setScale(ColorMap::kSequential, tr("Activations"), QStringLiteral("0"),
                        format_count(session_->run().max_activations()));
      break;
    case LayerExpertModel::Measure::kHitRate:
      legend_->setScale(ColorMap::kSequential, tr("Hit rate"), format_percent(0),
                        format_percent(1));
      break;
    case LayerExpertModel::Measure::kResidency:
      legend_->setScale(ColorMap::kSequential, tr("Time resident"), format_percent(0),
                        format_percent(1));
      break;
  }
}

}  // namespace moescope::views
