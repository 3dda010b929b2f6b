#include "views/text/text_panel.h"

#include <QComboBox>
#include <QEvent>
#include <QHBoxLayout>
#include <QLabel>
#include <QLocale>
#include <QSpinBox>
#include <QSplitter>
#include <QTextBrowser>
#include <QVBoxLayout>

#include <cmath>

#include "views/common/color_legend.h"
#include "views/common/format.h"
#include "views/common/view_export.h"
#include "views/session/session_controller.h"
#include "views/text/token_text_view.h"

namespace moescope::views {

TextPanel::TextPanel(SessionController* session, QWidget* parent)
    : QWidget(parent), session_(session) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  auto* bar = new QHBoxLayout;
  measure_label_ = new QLabel(this);
  measure_ = new QComboBox(this);
  measure_->setObjectName("tokenMeasure");
  measure_->setSizeAdjustPolicy(QComboBox::AdjustToContents);  // translations differ in length
  for (int i = 0; i < 5; ++i) measure_->addItem(QString(), i);
  layer_label_ = new QLabel(this);
  layer_ = new QSpinBox(this);
  layer_->setObjectName("textLayer");
  legend_ = new ColorLegend(this);
  bar->addWidget(measure_label_);
  bar->addWidget(measure_);
  bar->addWidget(layer_label_);
  bar->addWidget(layer_);
  bar->addWidget(legend_, 1);
  view_ = new TokenTextView(session_, this);
  layout->addLayout(bar);
  details_ = new QTextBrowser(this);
  details_->setObjectName("tokenDetails");
  details_->setOpenLinks(false);
  details_->setLineWrapMode(QTextEdit::NoWrap);  // the routing table keeps its columns
  auto* split = new QSplitter(Qt::Horizontal, this);
  split->setObjectName("textSplitter");
  split->addWidget(view_);
  split->addWidget(details_);
  split->setStretchFactor(0, 3);  // the details get room for their columns
  split->setStretchFactor(1, 2);
  layout->addWidget(split, 1);
  connect(session_->selection(), &Selection::tokenChanged, this, &TextPanel::updateDetails);
  connect(session_, &SessionController::analysisUpdated, this, &TextPanel::updateDetails);
  connect(session_, &SessionController::runStarted, this, &TextPanel::updateDetails);
  connect(session_, &SessionController::runFinished, this, &TextPanel::updateDetails);
  new ViewExport(view_, [v = view_] { return v->exportTable(); }, "tokens");

  measure_->setCurrentIndex(int(TokenMeasure::kMisses));
  connect(measure_, &QComboBox::currentIndexChanged, this, [this](int i) {
    view_->setMeasure(TokenMeasure(measure_->itemData(i).toInt()));
    updateLegend();
  });
  connect(layer_, &QSpinBox::valueChanged, session_->selection(), &Selection::setLayer);
  connect(session_->selection(), &Selection::layerChanged, layer_, &QSpinBox::setValue);
  auto reset_range = [this] { layer_->setRange(0, std::max(0, session_->run().n_layers() - 1)); };
  connect(session_, &SessionController::runStarted, this, reset_range);
  connect(session_, &SessionController::analysisUpdated, this, &TextPanel::updateLegend);
  reset_range();
  retranslate();
}

void TextPanel::updateDetails() {
  const int t = session_->selection()->token();
  if (t < 0 || t >= session_->run().token_count()) {
    details_->setHtml(QString());
    details_->setPlaceholderText(tr("Click a token: its routing stays here, to select and copy"));
    return;
  }
  details_->setHtml(view_->routingTooltip(t));
}

void TextPanel::changeEvent(QEvent* event) {
  if (event->type() == QEvent::LanguageChange) retranslate();
  QWidget::changeEvent(event);
}

void TextPanel::retranslate() {
  measure_label_->setText(tr("Colour by"));
  measure_->setItemText(int(TokenMeasure::kNone), tr("Nothing"));
  measure_->setItemText(int(TokenMeasure::kMisses), tr("Cache misses"));
  measure_->setItemText(int(TokenMeasure::kStall), tr("Stall time"));
  measure_->setItemText(int(TokenMeasure::kExpert), tr("Expert at layer"));
  measure_->setItemText(int(TokenMeasure::kEntropy), tr("Router entropy"));
  layer_label_->setText(tr("Layer"));
  layer_->setToolTip(tr("The MoE layer for \"Expert at layer\" and the token × expert heatmap"));
  updateLegend();
  updateDetails();
}

void TextPanel::updateLegend() {
  const RunData& run = session_->run();
  switch (view_->measure()) {
    case TokenMeasure::kNone:
      legend_->setScale(ColorMap::kSequential, QString(), QString(), QString());
      legend_->hide();
      return;
    case TokenMeasure::kMisses:
      legend_->setScale(ColorMap::kSequential, tr("Missed selections"), format_percent(0),
                        format_percent(1));
      break;
    case TokenMeasure::kStall: {
      const MeasureScale s = measure_scale(run);
      legend_->setScale(ColorMap::kSequential,
                        s.stall_measured ? tr("Stall (measured)") : tr("Stall (modelled)"),
                        format_duration_ns(0), format_duration_ns(int64_t(s.max_stall_ns)));
      break;
    }
    case TokenMeasure::kExpert: {
      QVector<QPair<QColor, QString>> entries;
      const int n =
          run.n_layers() > 0 ? run.n_experts(std::min(layer_->value(), run.n_layers() - 1)) : 0;
      for (int e = 0; e < std::min(n, 20); ++e)
        entries.append({categorical_color(e), QString::number(e)});
      legend_->setCategories(tr("Top-1 expert"), entries);
      break;
    }
    case TokenMeasure::kEntropy:
      legend_->setScale(ColorMap::kSequential,
                        run.entropy_from_topk() ? tr("Top-k weight entropy") : tr("Router entropy"),
                        tr("0 bits"),
                        tr("%1 bits").arg(QLocale().toString(run.max_entropy_bits(), 'f', 1)));
      legend_->setToolTip(
          run.entropy_from_topk()
              ? tr("This run has no router logits (recorded without them): the entropy is of "
                   "the selected experts' mixing weights normalised to 1, at most log2(k) bits. "
                   "It shows how evenly a token split itself among its chosen experts.")
              : tr("Entropy of the router's distribution over all experts, averaged over the "
                   "layers: 0 bits when one expert takes everything, log2(experts) when the "
                   "router cannot tell them apart."));
      legend_->show();
      return;
  }
  legend_->setToolTip(QString());
  legend_->show();
}

}  // namespace moescope::views
