#include "views/batch/step_layer_model.h"

#include <QLocale>

#include <algorithm>

#include "views/heatmap/heatmap_roles.h"

namespace moescope::views {

void StepLayerModel::setRun(const BatchRun& run) {
  if (run.steps.size() < steps_.size() || run.shape.n_experts != n_experts_) {
    beginResetModel();
    steps_ = run.steps;
    n_experts_ = run.shape.n_experts;
    updateScale();
    endResetModel();
    return;
  }
  const int known = int(steps_.size());
  if (run.steps.size() > steps_.size()) {
    beginInsertRows({}, known, int(run.steps.size()) - 1);
    steps_ = run.steps;
    endInsertRows();
  } else {
    steps_ = run.steps;
  }
  updateScale();
  // The colour scale of the straggler measure may have moved: every cell's value may change.
  if (!steps_.empty() && !n_experts_.empty())
    Q_EMIT dataChanged(index(0, 0), index(int(steps_.size()) - 1, int(n_experts_.size()) - 1));
}

void StepLayerModel::setMeasure(Measure measure) {
  if (measure == measure_) return;
  measure_ = measure;
  if (!steps_.empty() && !n_experts_.empty())
    Q_EMIT dataChanged(index(0, 0), index(int(steps_.size()) - 1, int(n_experts_.size()) - 1));
}

void StepLayerModel::updateScale() {
  max_straggler_ = 0;
  for (const BatchStep& s : steps_) {
    for (size_t l = 0; l < n_experts_.size() && l < s.routings.size(); ++l)
      max_straggler_ = std::max(max_straggler_, s.straggler(int(l), n_experts_[l]));
  }
}

double StepLayerModel::raw(int row, int layer) const {
  const BatchStep& s = steps_[size_t(row)];
  if (size_t(layer) >= s.distinct.size()) return 0;
  return measure_ == Measure::kDistinctExperts ? double(s.distinct[size_t(layer)])
                                               : s.straggler(layer, n_experts_[size_t(layer)]);
}

int StepLayerModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : int(steps_.size());
}

int StepLayerModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : int(n_experts_.size());
}

Qt::ItemFlags StepLayerModel::flags(const QModelIndex& index) const {
  return index.isValid() ? Qt::ItemIsEnabled : Qt::NoItemFlags;
}

QVariant StepLayerModel::data(const QModelIndex& index, int role) const {
  if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) {
    return {};
  }
  const int row = index.row(), layer = index.column();
  const double value = raw(row, layer);
  const BatchStep& s = steps_[size_t(row)];
  switch (role) {
    case kRawValueRole:
      return value;
    case kValueRole: {
      const double scale = measure_ == Measure::kDistinctExperts ? double(n_experts_[size_t(layer)])
                                                                 : max_straggler_;
      return scale > 0 ? value / scale : 0.0;
    }
    case Qt::DisplayRole:
      return measure_ == Measure::kDistinctExperts ? QString::number(int(value))
                                                   : QLocale().toString(value, 'f', 2);
    case Qt::ToolTipRole:
      return tr("Step %1, MoE layer %2: %3 of %4 experts ran, %5 token-expert pairs, the busiest "
                "expert got %6 tokens (straggler %7)")
          .arg(s.step)
          .arg(layer)
          .arg(s.distinct[size_t(layer)])
          .arg(n_experts_[size_t(layer)])
          .arg(s.routings[size_t(layer)])
          .arg(s.max_tokens[size_t(layer)])
          .arg(QLocale().toString(s.straggler(layer, n_experts_[size_t(layer)]), 'f', 2));
    default:
      return {};
  }
}

QVariant StepLayerModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (role != Qt::DisplayRole || section < 0) return {};
  if (orientation == Qt::Horizontal) {
    return section < int(n_experts_.size()) ? QVariant(tr("L%1").arg(section)) : QVariant();
  }
  return section < int(steps_.size()) ? QVariant(qlonglong(steps_[size_t(section)].step))
                                      : QVariant();
}

}  // namespace moescope::views
