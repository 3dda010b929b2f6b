#include "views/heatmap/token_expert_model.h"

#include <QLocale>

#include <algorithm>

#include "views/common/format.h"
#include "views/heatmap/heatmap_roles.h"
#include "views/session/analysis.h"
#include "views/session/session_controller.h"

namespace moescope::views {

TokenExpertModel::TokenExpertModel(SessionController* session, QObject* parent)
    : QAbstractTableModel(parent), session_(session) {
  connect(session_, &SessionController::runStarted, this, &TokenExpertModel::reset);
  connect(session_, &SessionController::runUpdated, this, &TokenExpertModel::grow);
  connect(session_, &SessionController::analysisUpdated, this, &TokenExpertModel::refresh);
  connect(session_->selection(), &Selection::layerChanged, this, &TokenExpertModel::reset);
  connect(session_->selection(), &Selection::tokenChanged, this, &TokenExpertModel::tokenSelected);
  reset();
}

void TokenExpertModel::reset() {
  beginResetModel();
  const RunData& run = session_->run();
  layer_ = std::clamp(session_->selection()->layer(), 0, std::max(0, run.n_layers() - 1));
  rows_ = run.n_layers() > 0 ? run.routed_count() : 0;
  columns_ = run.n_layers() > 0 ? run.n_experts(layer_) : 0;
  selected_ = session_->selection()->token();
  endResetModel();
}

void TokenExpertModel::grow() {
  const RunData& run = session_->run();
  if (run.n_layers() == 0 || columns_ != run.n_experts(layer_)) return reset();
  const int routed = run.routed_count();
  if (routed <= rows_) return;
  beginInsertRows({}, rows_, routed - 1);
  rows_ = routed;
  endInsertRows();
}

void TokenExpertModel::refresh() {
  if (rows_ > 0 && columns_ > 0) {
    Q_EMIT dataChanged(index(0, 0), index(rows_ - 1, columns_ - 1));
  }
}

void TokenExpertModel::tokenSelected(int token) {
  const int previous = selected_;
  selected_ = token;
  for (int row : {previous, token}) {
    if (row >= 0 && row < rows_ && columns_ > 0) {
      Q_EMIT dataChanged(index(row, 0), index(row, columns_ - 1), {kHighlightRole});
    }
  }
}

int TokenExpertModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : rows_;
}

int TokenExpertModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : columns_;
}

Qt::ItemFlags TokenExpertModel::flags(const QModelIndex& index) const {
  return index.isValid() ? Qt::ItemIsEnabled | Qt::ItemIsSelectable : Qt::NoItemFlags;
}

QVariant TokenExpertModel::data(const QModelIndex& index, int role) const {
  if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) {
    return {};
  }
  const RunData& run = session_->run();
  const int t = index.row(), e = index.column();
  const int rank = run.rank_of(t, layer_, e);
  const double weight = rank >= 0 ? double(run.weights(t, layer_)[size_t(rank)]) : 0.0;
  const auto& a = run.analysis();
  const bool analysed = a && t < a->n_tokens;
  const bool miss =
      rank >= 0 && analysed &&
      a->outcome[size_t(run.selection_offset(t, layer_) + rank)] == AccessOutcome::kMiss;
  switch (role) {
    case Qt::DisplayRole:
      return rank >= 0 ? QLocale().toString(weight, 'f', 2) : QString();
    case kValueRole:  // unselected cells stay blank
      return rank >= 0 ? QVariant(weight) : QVariant();
    case kRawValueRole:
      return weight;
    case kMarkRole:
      return miss;
    case kHighlightRole:
      return t == selected_;
    case Qt::ToolTipRole: {
      const QString text = t < run.token_count() ? run.token(t).text : QString();
      QString tip = tr("Token %1 «%2», layer %3, expert %4").arg(t).arg(text).arg(layer_).arg(e);
      if (rank < 0) return tip + "\n" + tr("Not selected");
      tip += "\n" + tr("Rank %1, weight %2").arg(rank + 1).arg(QLocale().toString(weight, 'f', 4));
      if (analysed) {
        switch (a->outcome[size_t(run.selection_offset(t, layer_) + rank)]) {
          case AccessOutcome::kMiss:
            tip += "\n" + tr("Cache: miss");
            break;
          case AccessOutcome::kHit:
            tip += "\n" + tr("Cache: hit");
            break;
          case AccessOutcome::kPrefetchHit:
            tip += "\n" + tr("Cache: hit on a prefetched expert");
            break;
        }
      }
      return tip;
    }
    default:
      return {};
  }
}

QVariant TokenExpertModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (role != Qt::DisplayRole || section < 0) return {};
  if (orientation == Qt::Horizontal) {
    return section < columns_ ? QVariant(QString::number(section)) : QVariant();
  }
  if (section >= rows_) return {};
  const RunData& run = session_->run();
  const QString text =
      section < run.token_count() ? run.token(section).text.simplified() : QString();
  return QStringLiteral("%1 %2").arg(section).arg(text.left(12));
}

}  // namespace moescope::views
