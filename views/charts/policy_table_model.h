#pragma once
// One row per policy of the run's analysis (the chosen one, the compared ones, the bounds) with
// its totals: hit rates, misses, bytes moved, modelled stall, prefetch precision and recall.
#include <QAbstractTableModel>

namespace moescope::views {

class SessionController;

class PolicyTableModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  enum Column {
    kPolicy,
    kRole,
    kDecodeHitRate,
    kHitRate,
    kMisses,
    kBytes,
    kStall,
    kPrecision,
    kRecall,
    kColumnCount
  };

  explicit PolicyTableModel(SessionController* session, QObject* parent = nullptr);

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation,
                      int role = Qt::DisplayRole) const override;

 private:
  SessionController* session_;
  int rows_ = 0;
};

}  // namespace moescope::views
