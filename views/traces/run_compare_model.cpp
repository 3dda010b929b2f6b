#include "views/traces/run_compare_model.h"

#include <QBrush>
#include <QColor>

namespace moescope::views {

void RunCompareModel::setComparison(RunComparison comparison) {
  beginResetModel();
  comparison_ = std::move(comparison);
  endResetModel();
}

int RunCompareModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : int(comparison_.rows.size());
}

int RunCompareModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : kColumnCount;
}

QVariant RunCompareModel::data(const QModelIndex& index, int role) const {
  if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) {
    return {};
  }
  const RunComparison::Row& r = comparison_.rows[size_t(index.row())];
  if (role == Qt::BackgroundRole) {
    if (r.id_a != r.id_b) return QBrush(QColor(214, 39, 40, 70));
    if (r.layers_differ > 0) return QBrush(QColor(255, 127, 14, 60));
    return {};
  }
  if (role != Qt::DisplayRole) return {};
  auto token = [](int32_t id, const QString& text) -> QVariant {
    if (id < 0 && text.isEmpty()) return QString();
    return QStringLiteral("%1  «%2»").arg(id).arg(text);
  };
  switch (Column(index.column())) {
    case kPosition:
      return r.pos;
    case kTokenA:
      return token(r.id_a, r.text_a);
    case kTokenB:
      return token(r.id_b, r.text_b);
    case kLayersDiffer:
      return r.layers_differ < 0 ? QVariant(QString()) : QVariant(r.layers_differ);
    case kMissesA:
      return r.misses_a < 0 ? QVariant(QString()) : QVariant(qlonglong(r.misses_a));
    case kMissesB:
      return r.misses_b < 0 ? QVariant(QString()) : QVariant(qlonglong(r.misses_b));
    case kColumnCount:
      break;
  }
  return {};
}

QVariant RunCompareModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (role != Qt::DisplayRole || orientation != Qt::Horizontal) return {};
  switch (section) {
    case kPosition:
      return tr("Position");
    case kTokenA:
      return tr("Token, run %1").arg(comparison_.run_a);
    case kTokenB:
      return tr("Token, run %1").arg(comparison_.run_b);
    case kLayersDiffer:
      return tr("Layers routed differently");
    case kMissesA:
      return tr("Misses, run %1").arg(comparison_.run_a);
    case kMissesB:
      return tr("Misses, run %1").arg(comparison_.run_b);
    default:
      return {};
  }
}

}  // namespace moescope::views
