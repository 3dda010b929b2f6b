#include "views/heatmap/token_expert_panel.h"

#include <QEvent>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

#include "views/common/color_legend.h"
#include "views/common/model_texts.h"
#include "views/common/view_export.h"
#include "views/heatmap/heatmap_roles.h"
#include "views/heatmap/heatmap_view.h"
#include "views/heatmap/token_expert_model.h"
#include "views/session/session_controller.h"

namespace moescope::views {

TokenExpertPanel::TokenExpertPanel(SessionController* session, QWidget* parent)
    : QWidget(parent), session_(session) {
  model_ = new TokenExpertModel(session_, this);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  auto* bar = new QHBoxLayout;
  layer_label_ = new QLabel(this);
  layer_ = new QSpinBox(this);
  layer_->setObjectName("tokenExpertLayer");
  fit_ = new QPushButton(this);
  legend_ = new ColorLegend(this);
  mark_note_ = new QLabel(this);
  bar->addWidget(layer_label_);
  bar->addWidget(layer_);
  bar->addWidget(fit_);
  bar->addWidget(legend_, 1);
  bar->addWidget(mark_note_);
  view_ = new HeatmapView(this);
  view_->setObjectName("tokenExpertHeatmap");
  view_->setModel(model_);
  layout->addLayout(bar);
  layout->addWidget(view_, 1);

  Selection* sel = session_->selection();
  connect(layer_, &QSpinBox::valueChanged, sel, &Selection::setLayer);
  connect(sel, &Selection::layerChanged, layer_, &QSpinBox::setValue);
  connect(sel, &Selection::tokenChanged, this, [this](int t) {
    if (t >= 0) view_->scrollToRow(t);
  });
  connect(fit_, &QPushButton::clicked, view_, &HeatmapView::fit);
  new ViewExport(
      view_, [this] { return table_from_model(*model_, kRawValueRole, true); }, "token-expert");
  connect(view_, &HeatmapView::cellClicked, this, [this](int row, int column) {
    session_->selection()->setToken(row);
    session_->selection()->setExpert(model_->layer(), column);
  });
  auto reset_range = [this] { layer_->setRange(0, std::max(0, session_->run().n_layers() - 1)); };
  connect(session_, &SessionController::runStarted, this, reset_range);
  reset_range();
  retranslate();
}

void TokenExpertPanel::changeEvent(QEvent* event) {
  if (event->type() == QEvent::LanguageChange) retranslate();
  QWidget::changeEvent(event);
}

void TokenExpertPanel::retranslate() {
  layer_label_->setText(tr("Layer"));
  fit_->setText(tr("Fit"));
  fit_->setToolTip(tr("Fit the grid to the view (0); zoom with Ctrl+wheel or +/-, drag to pan"));
  legend_->setScale(ColorMap::kSequential, tr("Mixing weight"), QStringLiteral("0"),
                    QStringLiteral("1"));
  mark_note_->setText(tr("<span style='color:#dc2828'>◥</span> cache miss"));
  retranslate_model(*model_);
}

}  // namespace moescope::views
