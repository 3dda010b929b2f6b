#include "views/batch/request_filter_model.h"

#include "views/batch/batch_run.h"
#include "views/batch/request_list_model.h"

namespace moescope::views {

RequestFilterModel::RequestFilterModel(QObject* parent) : QSortFilterProxyModel(parent) {
  setSortRole(RequestListModel::kSortRole);
  setDynamicSortFilter(true);
}

void RequestFilterModel::setPromptFilter(const QString& text) {
  if (text == prompt_) return;
  prompt_ = text;
  invalidateFilter();
}

void RequestFilterModel::setStates(States states) {
  if (states == states_) return;
  states_ = states;
  invalidateFilter();
}

bool RequestFilterModel::filterAcceptsRow(int source_row, const QModelIndex& source_parent) const {
  const QModelIndex prompt =
      sourceModel()->index(source_row, RequestListModel::kPrompt, source_parent);
  if (!prompt_.isEmpty() &&
      !prompt.data(Qt::ToolTipRole).toString().contains(prompt_, Qt::CaseInsensitive)) {
    return false;
  }
  const auto state = RequestState(prompt.data(RequestListModel::kStateRole).toInt());
  const bool finished = state == RequestState::kFinished || state == RequestState::kStopped;
  switch (states_) {
    case States::kAll:
      return true;
    case States::kUnfinished:
      return !finished;
    case States::kFinished:
      return finished;
  }
  return true;
}

}  // namespace moescope::views
