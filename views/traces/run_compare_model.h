#pragma once
// Two runs of a trace aligned by position: both tokens, how many layers routed differently, and
// each run's cache misses; rows where the runs differ are tinted.
#include <QAbstractTableModel>

#include "views/session/trace_loading.h"

namespace moescope::views {

class RunCompareModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  enum Column { kPosition, kTokenA, kTokenB, kLayersDiffer, kMissesA, kMissesB, kColumnCount };

  explicit RunCompareModel(QObject* parent = nullptr) : QAbstractTableModel(parent) {}

  void setComparison(RunComparison comparison);
  const RunComparison& comparison() const { return comparison_; }

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation,
                      int role = Qt::DisplayRole) const override;

 private:
  RunComparison comparison_;
};

}  // namespace moescope::views
