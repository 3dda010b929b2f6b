#include "views/affinity/affinity_panel.h"

#include <QCheckBox>
#include <QEvent>
#include <QHBoxLayout>
#include <QLabel>
#include <QSlider>
#include <QVBoxLayout>

#include "views/affinity/affinity_graph_view.h"
#include "views/common/format.h"
#include "views/common/view_export.h"

namespace moescope::views {

AffinityPanel::AffinityPanel(SessionController* session, QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  auto* bar = new QHBoxLayout;
  threshold_label_ = new QLabel(this);
  threshold_ = new QSlider(Qt::Horizontal, this);
  threshold_->setObjectName("affinityThreshold");
  threshold_->setRange(0, 100);
  threshold_->setMinimumWidth(120);  // usable however long the translated labels get
  threshold_value_ = new QLabel(this);
  threshold_value_->setMinimumWidth(60);
  coactivation_ = new QCheckBox(this);
  coactivation_->setObjectName("coactivation");
  bar->addWidget(threshold_label_);
  bar->addWidget(threshold_, 1);
  bar->addWidget(threshold_value_);
  bar->addWidget(coactivation_);
  graph_ = new AffinityGraphView(session, this);
  layout->addLayout(bar);
  layout->addWidget(graph_, 1);
  new ViewExport(graph_, [g = graph_] { return g->exportTable(); }, "affinity");

  connect(threshold_, &QSlider::valueChanged, this, [this](int v) {
    graph_->setThreshold(v / 100.0);
    threshold_value_->setText(format_percent(v / 100.0));
  });
  connect(coactivation_, &QCheckBox::toggled, graph_, &AffinityGraphView::setShowCoactivation);
  threshold_->setValue(20);
  retranslate();
}

void AffinityPanel::changeEvent(QEvent* event) {
  if (event->type() == QEvent::LanguageChange) retranslate();
  QWidget::changeEvent(event);
}

void AffinityPanel::retranslate() {
  threshold_label_->setText(tr("Edges from"));
  threshold_->setToolTip(
      tr("Draw an edge e → e′ when P(e′ at layer l+1 | e at layer l) is at "
         "least this"));
  threshold_value_->setText(format_percent(threshold_->value() / 100.0));
  coactivation_->setText(tr("Co-activation within a layer"));
  coactivation_->setToolTip(tr("Arcs between experts that one token selects together"));
  graph_->update();  // its labels are painted with tr()
}

}  // namespace moescope::views
