#include "views/batch/request_list_model.h"

#include <QLocale>

namespace moescope::views {
namespace {

QString milliseconds(double ms) {
  return ms < 0 ? QStringLiteral("—") : QLocale().toString(ms, 'f', 1) + QStringLiteral(" ms");
}

}  // namespace

void RequestListModel::setRequests(const std::vector<BatchRequest>& requests) {
  bool same = requests.size() == requests_.size();
  for (size_t i = 0; same && i < requests.size(); ++i) same = requests[i].id == requests_[i].id;
  if (!same) {
    beginResetModel();
    requests_ = requests;
    endResetModel();
    return;
  }
  requests_ = requests;
  if (!requests_.empty())
    Q_EMIT dataChanged(index(0, 0), index(int(requests_.size()) - 1, kColumnCount - 1));
}

int RequestListModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : int(requests_.size());
}

int RequestListModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : kColumnCount;
}

QString RequestListModel::stateText(const BatchRequest& r) {
  switch (r.state) {
    case RequestState::kWaiting:
      return tr("waiting");
    case RequestState::kRunning:
      return tr("running");
    case RequestState::kFinished:
      return r.stop_reason.isEmpty() ? tr("finished") : tr("finished (%1)").arg(r.stop_reason);
    case RequestState::kStopped:
      return tr("stopped");
  }
  return {};
}

QVariant RequestListModel::data(const QModelIndex& index, int role) const {
  if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) {
    return {};
  }
  const BatchRequest& r = requests_[size_t(index.row())];
  const Column column = Column(index.column());
  if (role == kStateRole) return int(r.state);
  if (role == Qt::ToolTipRole && column == kPrompt) return r.prompt;
  if (role == Qt::TextAlignmentRole && column != kPrompt && column != kState)
    return int(Qt::AlignRight | Qt::AlignVCenter);
  if (role == kSortRole) {
    switch (column) {
      case kId:
        return qlonglong(r.id);
      case kPrompt:
        return r.prompt;
      case kState:
        return int(r.state);
      case kTokens:
        return r.generated_tokens;
      case kTtft:
        return r.ttft_ms;
      case kTpot:
        return r.tpot_ms;
      case kColumnCount:
        break;
    }
    return {};
  }
  if (role != Qt::DisplayRole) return {};
  switch (column) {
    case kId:
      return qlonglong(r.id);
    case kPrompt:
      return r.prompt.section(QLatin1Char('\n'), 0, 0).left(80);
    case kState:
      return stateText(r);
    case kTokens:
      return tr("%1 + %2").arg(r.prompt_tokens).arg(r.generated_tokens);
    case kTtft:
      return milliseconds(r.ttft_ms);
    case kTpot:
      return milliseconds(r.tpot_ms);
    case kColumnCount:
      break;
  }
  return {};
}

QVariant RequestListModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal) return {};
  if (role == Qt::ToolTipRole) {
    switch (section) {
      case kTokens:
        return tr("Prompt tokens + generated tokens");
      case kTtft:
        return tr("Time to first token: from the request's arrival to its first sampled token");
      case kTpot:
        return tr("Time per output token after the first");
      default:
        return {};
    }
  }
  if (role != Qt::DisplayRole) return {};
  switch (section) {
    case kId:
      return tr("Request");
    case kPrompt:
      return tr("Prompt");
    case kState:
      return tr("State");
    case kTokens:
      return tr("Tokens");
    case kTtft:
      return tr("TTFT");
    case kTpot:
      return tr("TPOT");
    default:
      return {};
  }
}

}  // namespace moescope::views
