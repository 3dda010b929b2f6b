#include "views/batch/step_timeline_panel.h"

#include <QComboBox>
#include <QEvent>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QSplitter>
#include <QTableView>
#include <QVBoxLayout>

#include "views/batch/batch_controller.h"
#include "views/batch/scheduler_compare_model.h"
#include "views/batch/step_layer_model.h"
#include "views/batch/step_table_model.h"
#include "views/common/view_export.h"
#include "views/heatmap/heatmap_roles.h"
#include "views/heatmap/heatmap_view.h"

namespace moescope::views {

StepTimelinePanel::StepTimelinePanel(BatchController* batch, QWidget* parent)
    : QWidget(parent), batch_(batch) {
  auto* layout = new QVBoxLayout(this);
  auto* top = new QHBoxLayout;
  measure_label_ = new QLabel(this);
  measure_ = new QComboBox(this);
  measure_->setObjectName("stepMeasure");
  measure_->addItem(QString());
  measure_->addItem(QString());
  top->addWidget(measure_label_);
  top->addWidget(measure_);
  top->addStretch(1);
  layout->addLayout(top);
  compare_ = new SchedulerCompareModel(this);
  compare_view_ = new QTableView(this);
  compare_view_->setObjectName("schedulerCompare");
  compare_view_->setModel(compare_);
  compare_view_->verticalHeader()->hide();
  compare_view_->horizontalHeader()->setStretchLastSection(true);
  compare_view_->setMaximumHeight(110);
  layout->addWidget(compare_view_);
  new ViewExport(
      compare_view_, [this] { return table_from_model(*compare_); },
      QStringLiteral("scheduler-comparison"));
  note_ = new QLabel(this);
  note_->setWordWrap(true);
  layout->addWidget(note_);
  runs_ = new QSplitter(Qt::Horizontal, this);
  layout->addWidget(runs_, 1);
  connect(measure_, &QComboBox::currentIndexChanged, this, &StepTimelinePanel::applyMeasure);
  connect(batch_, &BatchController::runsReset, this, &StepTimelinePanel::rebuild);
  connect(batch_, &BatchController::runUpdated, this, &StepTimelinePanel::update);
  retranslate();
  rebuild();
}

void StepTimelinePanel::rebuild() {
  for (Column& c : columns_) delete c.box;
  columns_.clear();
  const auto& runs = batch_->runs();
  for (size_t i = 0; i < runs.size(); ++i) {
    Column c;
    c.box = new QWidget(runs_);
    auto* layout = new QVBoxLayout(c.box);
    layout->setContentsMargins(0, 0, 0, 0);
    c.title = new QLabel(c.box);
    c.layers = new StepLayerModel(c.box);
    c.steps = new StepTableModel(c.box);
    c.heatmap = new HeatmapView(c.box);
    c.heatmap->setObjectName(QStringLiteral("stepHeatmap%1").arg(i));
    c.heatmap->setModel(c.layers);
    c.heatmap->setFollowTail(true);
    c.table = new QTableView(c.box);
    c.table->setObjectName(QStringLiteral("stepTable%1").arg(i));
    c.table->setModel(c.steps);
    c.table->verticalHeader()->hide();
    auto* split = new QSplitter(Qt::Vertical, c.box);
    split->addWidget(c.heatmap);
    split->addWidget(c.table);
    layout->addWidget(c.title);
    layout->addWidget(split, 1);
    StepLayerModel* layers = c.layers;
    StepTableModel* steps = c.steps;
    new ViewExport(
        c.heatmap, [layers] { return table_from_model(*layers, kRawValueRole, true); },
        QStringLiteral("step-layers-%1").arg(runs[i].scheduler));
    new ViewExport(
        c.table, [steps] { return table_from_model(*steps); },
        QStringLiteral("steps-%1").arg(runs[i].scheduler));
    runs_->addWidget(c.box);
    columns_.push_back(c);
    update(int(i));
  }
  applyMeasure();
  compare_->setRuns(runs);
  compare_view_->setVisible(!runs.empty());
  retranslate();
}

void StepTimelinePanel::update(int run) {
  const auto& runs = batch_->runs();
  if (size_t(run) >= runs.size() || size_t(run) >= columns_.size()) return;
  columns_[size_t(run)].layers->setRun(runs[size_t(run)]);
  columns_[size_t(run)].steps->setRun(runs[size_t(run)]);
  compare_->setRuns(runs);
}

void StepTimelinePanel::applyMeasure() {
  const auto measure = measure_->currentIndex() == 1 ? StepLayerModel::Measure::kStraggler
                                                     : StepLayerModel::Measure::kDistinctExperts;
  for (Column& c : columns_) c.layers->setMeasure(measure);
}

void StepTimelinePanel::changeEvent(QEvent* event) {
  if (event->type() == QEvent::LanguageChange) retranslate();
  QWidget::changeEvent(event);
}

void StepTimelinePanel::retranslate() {
  measure_label_->setText(tr("Cells"));
  measure_->setItemText(0, tr("distinct experts per step and layer"));
  measure_->setItemText(1, tr("straggler factor (max / mean tokens per expert)"));
  const auto& runs = batch_->runs();
  note_->setText(runs.empty() ? tr("Run a workload (Workload panel) or open a batched trace to "
                                   "see its steps.")
                 : runs.size() > 1
                     ? tr("The same workload under each scheduler, run one after the other "
                          "with the same settings: scheduling is exact, so every request got "
                          "the same text; the steps differ.")
                     : QString());
  for (size_t i = 0; i < columns_.size() && i < runs.size(); ++i) {
    columns_[i].title->setText(
        runs[i].scheduler.isEmpty() ? tr("Steps") : tr("Steps — %1").arg(runs[i].scheduler));
  }
}

}  // namespace moescope::views
