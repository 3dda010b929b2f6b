#include "views/batch/step_table_model.h"

#include <QLocale>

#include <algorithm>

#include "views/common/format.h"

namespace moescope::views {

void StepTableModel::setRun(const BatchRun& run) {
  if (run.steps.size() < steps_.size() || run.shape.n_experts != n_experts_) {
    beginResetModel();
    steps_ = run.steps;
    n_experts_ = run.shape.n_experts;
    endResetModel();
    return;
  }
  const int known = int(steps_.size());
  if (known > 0) {
    std::copy(run.steps.begin(), run.steps.begin() + known, steps_.begin());
    Q_EMIT dataChanged(index(0, 0), index(known - 1, kColumnCount - 1));
  }
  if (run.steps.size() > steps_.size()) {
    beginInsertRows({}, known, int(run.steps.size()) - 1);
    steps_.insert(steps_.end(), run.steps.begin() + known, run.steps.end());
    endInsertRows();
  }
}

double StepTableModel::maxStraggler(int row) const {
  const BatchStep& s = steps_[size_t(row)];
  double worst = 0;
  for (size_t l = 0; l < s.routings.size() && l < n_experts_.size(); ++l)
    worst = std::max(worst, s.straggler(int(l), n_experts_[l]));
  return worst;
}

int StepTableModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : int(steps_.size());
}

int StepTableModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : kColumnCount;
}

QVariant StepTableModel::data(const QModelIndex& index, int role) const {
  if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) {
    return {};
  }
  if (role == Qt::TextAlignmentRole) return int(Qt::AlignRight | Qt::AlignVCenter);
  if (role != Qt::DisplayRole) return {};
  const BatchStep& s = steps_[size_t(index.row())];
  const QLocale locale;
  switch (Column(index.column())) {
    case kStep:
      return qlonglong(s.step);
    case kRequests:
      return s.requests < 0 ? QVariant(QStringLiteral("—")) : QVariant(s.requests);
    case kRows:
      return s.rows;
    case kDistinct:
      return locale.toString(s.mean_distinct(), 'f', 2);
    case kStraggler:
      return locale.toString(maxStraggler(index.row()), 'f', 2);
    case kBytes:
      return s.bytes < 0 ? QStringLiteral("—") : format_bytes(uint64_t(s.bytes));
    case kTime:
      return s.ms < 0 ? QStringLiteral("—") : locale.toString(s.ms, 'f', 1);
    case kColumnCount:
      break;
  }
  return {};
}

QVariant StepTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal) return {};
  if (role == Qt::ToolTipRole) {
    switch (section) {
      case kDistinct:
        return tr("Distinct experts the step ran, mean over the MoE layers");
      case kStraggler:
        return tr(
            "Straggler factor: the most tokens one expert got over the mean tokens per "
            "expert, the worst MoE layer of the step");
      case kBytes:
        return tr("Bytes the expert cache loaded for the step (— without offloading)");
      default:
        return {};
    }
  }
  if (role != Qt::DisplayRole) return {};
  switch (section) {
    case kStep:
      return tr("Step");
    case kRequests:
      return tr("Requests");
    case kRows:
      return tr("Tokens");
    case kDistinct:
      return tr("Distinct experts");
    case kStraggler:
      return tr("Straggler");
    case kBytes:
      return tr("Bytes moved");
    case kTime:
      return tr("Time (ms)");
    default:
      return {};
  }
}

}  // namespace moescope::views
