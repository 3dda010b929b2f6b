#pragma once
// The requests of a batched run: id, prompt, state, tokens (prompt + generated), TTFT, TPOT. Cells
// only: sorting and filtering go through RequestFilterModel (request_filter_model.h). kSortRole
// gives each cell's raw value (numbers as numbers, -1 where not known yet).
#include <QAbstractTableModel>

#include "views/batch/batch_run.h"

namespace moescope::views {

class RequestListModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  enum Column { kId, kPrompt, kState, kTokens, kTtft, kTpot, kColumnCount };
  static constexpr int kSortRole = Qt::UserRole + 1;
  static constexpr int kStateRole = Qt::UserRole + 2;  // RequestState as int

  explicit RequestListModel(QObject* parent = nullptr) : QAbstractTableModel(parent) {}

  // Shows a run's requests: the same requests again (a live update) change cells in place,
  // others reset the model.
  void setRequests(const std::vector<BatchRequest>& requests);
  const BatchRequest& request(int row) const { return requests_[size_t(row)]; }

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation,
                      int role = Qt::DisplayRole) const override;

  static QString stateText(const BatchRequest& request);

 private:
  std::vector<BatchRequest> requests_;
};

}  // namespace moescope::views
