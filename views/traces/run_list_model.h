#pragma once
// The runs of an opened trace: id, label, status, model, tokens, policies, start time.
#include <QAbstractTableModel>

#include <vector>

#include "storage/trace_reader.h"

namespace moescope::views {

class RunListModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  enum Column { kId, kStatus, kModel, kTokens, kPolicies, kStarted, kLabel, kColumnCount };

  explicit RunListModel(QObject* parent = nullptr) : QAbstractTableModel(parent) {}

  void setRuns(std::vector<storage::RunSummary> runs);
  const std::vector<storage::RunSummary>& runs() const { return runs_; }
  int64_t runId(int row) const { return runs_[size_t(row)].id; }

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation,
                      int role = Qt::DisplayRole) const override;

 private:
  std::vector<storage::RunSummary> runs_;
};

}  // namespace moescope::views
