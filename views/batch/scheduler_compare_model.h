#pragma once
// FIFO vs expert-aware on the same workload, one row per run: steps, distinct experts per
// (step, MoE layer), the mean straggler factor, bytes the expert cache moved, tokens/s and p95
// TTFT (the fairness cost). Cells only; the numbers are BatchRun::summary()'s.
#include <QAbstractTableModel>

#include "views/batch/batch_run.h"

namespace moescope::views {

class SchedulerCompareModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  enum Column {
    kScheduler,
    kSteps,
    kDistinct,
    kStraggler,
    kBytes,
    kTokensPerS,
    kTtftP95,
    kColumnCount
  };

  explicit SchedulerCompareModel(QObject* parent = nullptr) : QAbstractTableModel(parent) {}

  void setRuns(const std::vector<BatchRun>& runs);
  const BatchSummary& summary(int row) const { return summaries_[size_t(row)]; }

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation,
                      int role = Qt::DisplayRole) const override;

 private:
  std::vector<QString> schedulers_;
  std::vector<BatchSummary> summaries_;
};

}  // namespace moescope::views
