#pragma once
// The step timeline as a heatmap (views/heatmap/heatmap_view.h): one row per step, one column per
// MoE layer; the cell is the distinct experts the step ran at the layer (coloured as a share of
// the layer's experts) or its straggler factor (max / mean tokens per expert, coloured against
// the largest in the run). Cells only.
#include <QAbstractTableModel>

#include "views/batch/batch_run.h"

namespace moescope::views {

class StepLayerModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  enum class Measure { kDistinctExperts, kStraggler };

  explicit StepLayerModel(QObject* parent = nullptr) : QAbstractTableModel(parent) {}

  // A live run grows by rows; another run resets the model.
  void setRun(const BatchRun& run);
  Measure measure() const { return measure_; }
  void setMeasure(Measure measure);
  double raw(int step_row, int layer) const;

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation,
                      int role = Qt::DisplayRole) const override;
  Qt::ItemFlags flags(const QModelIndex& index) const override;

 private:
  void updateScale();

  Measure measure_ = Measure::kDistinctExperts;
  std::vector<BatchStep> steps_;
  std::vector<int32_t> n_experts_;  // [MoE layers]
  double max_straggler_ = 0;
};

}  // namespace moescope::views
