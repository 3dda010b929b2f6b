#include "views/heatmap/layer_expert_model.h"

#include <cmath>
#include <limits>

#include "views/common/format.h"
#include "views/heatmap/heatmap_roles.h"
#include "views/session/analysis.h"
#include "views/session/session_controller.h"

namespace moescope::views {
namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
}

LayerExpertModel::LayerExpertModel(SessionController* session, QObject* parent)
    : QAbstractTableModel(parent), session_(session) {
  connect(session_, &SessionController::runStarted, this, &LayerExpertModel::reset);
  connect(session_, &SessionController::runUpdated, this, &LayerExpertModel::refresh);
  connect(session_, &SessionController::analysisUpdated, this, &LayerExpertModel::refresh);
  connect(session_->selection(), &Selection::tokenChanged, this, &LayerExpertModel::refresh);
  reset();
}

void LayerExpertModel::setMeasure(Measure measure) {
  measure_ = measure;
  refresh();
}

void LayerExpertModel::reset() {
  beginResetModel();
  rows_ = session_->run().n_layers();
  columns_ = session_->run().max_experts();
  endResetModel();
}

void LayerExpertModel::refresh() {
  if (rows_ != session_->run().n_layers() || columns_ != session_->run().max_experts()) {
    reset();
    return;
  }
  if (rows_ > 0 && columns_ > 0) {
    Q_EMIT dataChanged(index(0, 0), index(rows_ - 1, columns_ - 1));
  }
}

int LayerExpertModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : rows_;
}

int LayerExpertModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : columns_;
}

Qt::ItemFlags LayerExpertModel::flags(const QModelIndex& index) const {
  if (!index.isValid()) return Qt::NoItemFlags;
  if (index.column() >= session_->run().n_experts(index.row())) return Qt::NoItemFlags;
  return Qt::ItemIsEnabled | Qt::ItemIsSelectable;
}

double LayerExpertModel::raw(int l, int e) const {
  const RunData& run = session_->run();
  if (l < 0 || l >= run.n_layers() || e < 0 || e >= run.n_experts(l)) return kNaN;
  const auto& a = run.analysis();
  const size_t k = run.key(l, e);
  switch (measure_) {
    case Measure::kActivations:
      return double(run.activations(l, e));
    case Measure::kHitRate:
      if (!a || a->key_accesses[k] == 0) return kNaN;
      return double(a->key_hits[k]) / double(a->key_accesses[k]);
    case Measure::kResidency:
      if (!a || a->n_tokens == 0) return kNaN;
      return double(a->resident_tokens[k]) / double(a->n_tokens);
  }
  return kNaN;
}

QVariant LayerExpertModel::data(const QModelIndex& index, int role) const {
  if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) {
    return {};
  }
  const RunData& run = session_->run();
  const int l = index.row(), e = index.column();
  if (e >= run.n_experts(l)) return {};
  const double v = raw(l, e);
  switch (role) {
    case Qt::DisplayRole:
      if (std::isnan(v)) return QString();
      return measure_ == Measure::kActivations ? format_count(int64_t(v)) : format_percent(v);
    case kRawValueRole:
      return v;
    case kValueRole: {
      if (std::isnan(v)) return kNaN;
      if (measure_ != Measure::kActivations) return v;
      const double max = double(run.max_activations());
      return max > 0 ? v / max : 0.0;
    }
    case kHighlightRole: {
      const int t = session_->selection()->token();
      return run.routed(t) && run.rank_of(t, l, e) >= 0;
    }
    case Qt::ToolTipRole: {
      QString tip = tr("Layer %1, expert %2").arg(l).arg(e);
      tip += "\n" + tr("Activations: %1 of %2 tokens")
                        .arg(format_count(run.activations(l, e)))
                        .arg(format_count(run.routed_count()));
      const auto& a = run.analysis();
      if (a) {
        const size_t k = run.key(l, e);
        tip += "\n" + tr("Cache (%1): %2 hits of %3 accesses")
                          .arg(QString::fromStdString(a->chosen()->spec))
                          .arg(format_count(a->key_hits[k]))
                          .arg(format_count(a->key_accesses[k]));
        if (a->n_tokens > 0) {
          tip +=
              "\n" + tr("Resident for %1 of %2 tokens (%3)")
                         .arg(format_count(a->resident_tokens[k]))
                         .arg(format_count(a->n_tokens))
                         .arg(format_percent(double(a->resident_tokens[k]) / double(a->n_tokens)));
        }
      }
      return tip;
    }
    default:
      return {};
  }
}

QVariant LayerExpertModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (role != Qt::DisplayRole || section < 0) return {};
  if (orientation == Qt::Horizontal) {
    return section < columns_ ? QVariant(QString::number(section)) : QVariant();
  }
  if (section >= rows_) return {};
  const auto& ml = session_->run().shape().model_layer;
  return section < int(ml.size()) && ml[size_t(section)] != section
             ? tr("L%1 (block %2)").arg(section).arg(ml[size_t(section)])
             : tr("L%1").arg(section);
}

}  // namespace moescope::views
