#pragma once
// The steps of a batched run, one row per forward call: requests, rows (tokens forwarded), the
// distinct experts it ran (mean over MoE layers), its worst straggler factor (max over layers of
// max / mean tokens per expert), the bytes the expert cache loaded, its wall time. Cells only.
#include <QAbstractTableModel>

#include "views/batch/batch_run.h"

namespace moescope::views {

class StepTableModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  enum Column { kStep, kRequests, kRows, kDistinct, kStraggler, kBytes, kTime, kColumnCount };

  explicit StepTableModel(QObject* parent = nullptr) : QAbstractTableModel(parent) {}

  // A live run grows: steps beyond the known ones are inserted, known ones updated in place;
  // another run (fewer steps) resets the model.
  void setRun(const BatchRun& run);
  // The worst straggler factor of a step over its MoE layers.
  double maxStraggler(int row) const;

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation,
                      int role = Qt::DisplayRole) const override;

 private:
  std::vector<BatchStep> steps_;
  std::vector<int32_t> n_experts_;  // [MoE layers]
};

}  // namespace moescope::views
