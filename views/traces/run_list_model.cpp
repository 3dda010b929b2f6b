#include "views/traces/run_list_model.h"

#include <QDateTime>
#include <QFileInfo>
#include <QLocale>

namespace moescope::views {

void RunListModel::setRuns(std::vector<storage::RunSummary> runs) {
  beginResetModel();
  runs_ = std::move(runs);
  endResetModel();
}

int RunListModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : int(runs_.size());
}

int RunListModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : kColumnCount;
}

QVariant RunListModel::data(const QModelIndex& index, int role) const {
  if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) {
    return {};
  }
  const storage::RunSummary& r = runs_[size_t(index.row())];
  if (role == Qt::ToolTipRole && index.column() == kModel)
    return QString::fromStdString(r.model_path);
  if (role != Qt::DisplayRole) return {};
  switch (Column(index.column())) {
    case kId:
      return qlonglong(r.id);
    case kStatus:
      return r.status == storage::RunStatus::kComplete ? tr("complete") : tr("interrupted");
    case kModel:
      return QFileInfo(QString::fromStdString(r.model_path)).fileName();
    case kTokens:
      return tr("%1 (%2 prompt)").arg(r.n_tokens).arg(r.n_prefill);
    case kPolicies: {
      QStringList p;
      for (const auto& s : r.policies) p << QString::fromStdString(s);
      return p.join(", ");
    }
    case kStarted:
      return QLocale().toString(QDateTime::fromMSecsSinceEpoch(r.started_unix_ns / 1'000'000),
                                QLocale::ShortFormat);
    case kLabel:
      return QString::fromStdString(r.label);
    case kColumnCount:
      break;
  }
  return {};
}

QVariant RunListModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (role != Qt::DisplayRole || orientation != Qt::Horizontal) return {};
  switch (section) {
    case kId:
      return tr("Run");
    case kStatus:
      return tr("Status");
    case kModel:
      return tr("Model");
    case kTokens:
      return tr("Tokens");
    case kPolicies:
      return tr("Policies");
    case kStarted:
      return tr("Started");
    case kLabel:
      return tr("Label");
    default:
      return {};
  }
}

}  // namespace moescope::views
