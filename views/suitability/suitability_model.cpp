#include "views/suitability/suitability_model.h"

#include <QLocale>

#include <cmath>

namespace moescope::views {

SuitabilityModel::SuitabilityModel(QObject* parent) : QAbstractTableModel(parent) {}

void SuitabilityModel::setSuitability(std::shared_ptr<const policy::Suitability> s) {
  beginResetModel();
  s_ = std::move(s);
  endResetModel();
}

void SuitabilityModel::retranslate() {
  Q_EMIT headerDataChanged(Qt::Horizontal, 0, kColumns - 1);
  if (rowCount() > 0) Q_EMIT dataChanged(index(0, 0), index(rowCount() - 1, kColumns - 1));
}

int SuitabilityModel::rowCount(const QModelIndex& parent) const {
  if (parent.isValid() || !s_) return 0;
  return windows() + 2;  // + LRU and Belady
}

int SuitabilityModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : kColumns;
}

double SuitabilityModel::rate(int row, int column) const {
  const size_t c = column == kAtK ? 0 : 1;
  if (c >= s_->capacities.size()) return std::nan("");
  const policy::CapacityPoint& p = s_->capacities[c];
  // The paper's model level: one pool of the capacity's total slots, so OPT bounds the column.
  if (row < windows()) return p.sch[size_t(row)].model;
  return row == windows() ? p.lru_global : p.opt_global;
}

QVariant SuitabilityModel::data(const QModelIndex& index, int role) const {
  if (!s_ || !index.isValid() || index.row() >= rowCount() || index.column() >= kColumns) return {};
  const int row = index.row();
  const bool window = row < windows();
  if (role == Qt::TextAlignmentRole) {
    return index.column() == kName ? QVariant(int(Qt::AlignLeft | Qt::AlignVCenter))
                                   : QVariant(int(Qt::AlignRight | Qt::AlignVCenter));
  }
  if (role != Qt::DisplayRole && role != Qt::ToolTipRole && role != Qt::UserRole) return {};
  switch (index.column()) {
    case kName:
      if (role == Qt::UserRole) return window ? s_->windows[size_t(row)] : -1;
      if (window) return tr("m = %1 tokens").arg(s_->windows[size_t(row)]);
      return row == windows() ? tr("LRU") : tr("OPT (demand MIN, bound)");
    case kSrp: {
      if (!window) return {};
      const double v = s_->srp[size_t(row)].model;
      if (role == Qt::UserRole) return v;
      return std::isnan(v) ? QStringLiteral("-") : QLocale().toString(v, 'f', 3);
    }
    default: {
      const double v = rate(row, index.column());
      if (role == Qt::UserRole) return v;
      return std::isnan(v) ? QStringLiteral("-")
                           : tr("%1 %").arg(QLocale().toString(100 * v, 'f', 1));
    }
  }
}

QVariant SuitabilityModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (role != Qt::DisplayRole) return {};
  if (orientation == Qt::Vertical) return section + 1;
  const qint64 k = s_ && !s_->capacities.empty() ? s_->capacities[0].total_slots : 0;
  const qint64 k2 = s_ && s_->capacities.size() > 1 ? s_->capacities[1].total_slots : 0;
  switch (section) {
    case kName:
      return tr("Window / policy");
    case kSrp:
      return tr("SRP(m)");
    case kAtK:
      return tr("Hit rate, k: one pool of %1 slots").arg(k);
    case kAt2K:
      return tr("Hit rate, 2k: one pool of %1 slots").arg(k2);
  }
  return {};
}

}  // namespace moescope::views
