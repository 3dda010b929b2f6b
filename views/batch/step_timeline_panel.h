#pragma once
// The step timeline of batched runs: per step (forward call) and MoE layer the distinct experts
// the step ran or its straggler factor (a heatmap, step_layer_model.h), and per step its
// requests, tokens, bytes moved and time (step_table_model.h). With two runs of the same workload
// (FIFO and expert-aware) the runs stand side by side under a table comparing them
// (scheduler_compare_model.h).
#include <QWidget>

#include <vector>

class QComboBox;
class QLabel;
class QSplitter;
class QTableView;

namespace moescope::views {

class BatchController;
class HeatmapView;
class SchedulerCompareModel;
class StepLayerModel;
class StepTableModel;

class StepTimelinePanel : public QWidget {
  Q_OBJECT
 public:
  explicit StepTimelinePanel(BatchController* batch, QWidget* parent = nullptr);

  // One column per run on show.
  int columnCount() const { return int(columns_.size()); }
  StepLayerModel* layerModel(int run) const { return columns_[size_t(run)].layers; }
  StepTableModel* stepModel(int run) const { return columns_[size_t(run)].steps; }
  HeatmapView* heatmap(int run) const { return columns_[size_t(run)].heatmap; }
  SchedulerCompareModel* compareModel() const { return compare_; }
  QComboBox* measureChooser() const { return measure_; }

 protected:
  void changeEvent(QEvent* event) override;

 private:
  struct Column {
    QWidget* box = nullptr;
    QLabel* title = nullptr;
    StepLayerModel* layers = nullptr;
    StepTableModel* steps = nullptr;
    HeatmapView* heatmap = nullptr;
    QTableView* table = nullptr;
  };
  void rebuild();
  void update(int run);
  void applyMeasure();
  void retranslate();

  BatchController* batch_;
  QLabel* measure_label_ = nullptr;
  QComboBox* measure_ = nullptr;
  QLabel* note_ = nullptr;
  SchedulerCompareModel* compare_ = nullptr;
  QTableView* compare_view_ = nullptr;
  QSplitter* runs_ = nullptr;
  std::vector<Column> columns_;
};

}  // namespace moescope::views
