#pragma once
// Sorting and filtering of the request list (request_list_model.h): by a text the prompt must
// contain (case-insensitive) and by state (all, or only unfinished / finished ones). Sorting
// uses the raw values (RequestListModel::kSortRole).
#include <QSortFilterProxyModel>
#include <QString>

namespace moescope::views {

class RequestFilterModel : public QSortFilterProxyModel {
  Q_OBJECT
 public:
  enum class States { kAll, kUnfinished, kFinished };

  explicit RequestFilterModel(QObject* parent = nullptr);

  void setPromptFilter(const QString& text);
  void setStates(States states);

 protected:
  bool filterAcceptsRow(int source_row, const QModelIndex& source_parent) const override;

 private:
  QString prompt_;
  States states_ = States::kAll;
};

}  // namespace moescope::views
