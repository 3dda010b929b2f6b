#include "views/charts/policy_table_model.h"

#include <QBrush>

#include "views/charts/policy_series.h"
#include "views/common/format.h"
#include "views/session/analysis.h"
#include "views/session/session_controller.h"

namespace moescope::views {

PolicyTableModel::PolicyTableModel(SessionController* session, QObject* parent)
    : QAbstractTableModel(parent), session_(session) {
  auto reset = [this] {
    beginResetModel();
    const auto& a = session_->run().analysis();
    rows_ = a ? int(a->policies.size()) : 0;
    endResetModel();
  };
  connect(session_, &SessionController::runStarted, this, reset);
  connect(session_, &SessionController::analysisUpdated, this, reset);
}

int PolicyTableModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : rows_;
}

int PolicyTableModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : kColumnCount;
}

QVariant PolicyTableModel::data(const QModelIndex& index, int role) const {
  if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) {
    return {};
  }
  const auto& a = session_->run().analysis();
  if (!a || index.row() >= int(a->policies.size())) return {};
  const PolicyRun& run = a->policies[size_t(index.row())];
  if (role == Qt::DecorationRole && index.column() == kPolicy)
    return policy_color(run, index.row());
  if (role == Qt::ToolTipRole && !run.error.empty()) return QString::fromStdString(run.error);
  if (role == Qt::TextAlignmentRole && index.column() >= kDecodeHitRate) {
    return QVariant(Qt::AlignRight | Qt::AlignVCenter);
  }
  if (role != Qt::DisplayRole) return {};
  const policy::CacheCounters total = run.report.total();
  const policy::CacheCounters& decode = run.report.phase[1];
  switch (Column(index.column())) {
    case kPolicy:
      return QString::fromStdString(run.spec);
    case kRole:
      switch (run.role) {
        case PolicyRun::Role::kChosen:
          return tr("chosen");
        case PolicyRun::Role::kCompared:
          return run.oracle ? tr("compared (oracle)") : tr("compared");
        case PolicyRun::Role::kBound:
          return run.bound ? tr("bound") : tr("oracle reference (not a bound)");
      }
      return {};
    case kDecodeHitRate:
      return run.error.empty() ? format_percent(decode.hit_rate()) : tr("error");
    case kHitRate:
      return run.error.empty() ? format_percent(total.hit_rate()) : QString();
    case kMisses:
      return run.error.empty() ? format_count(total.misses) : QString();
    case kBytes:
      return run.error.empty() ? format_bytes(uint64_t(total.bytes_loaded)) : QString();
    case kStall:
      return run.error.empty() ? format_duration_ns(total.stall_ns) : QString();
    // Without predictions (no prefetcher) precision and recall mean nothing.
    case kPrecision:
      return total.prefetch_predicted ? format_percent(total.precision()) : QStringLiteral("–");
    case kRecall:
      return total.prefetch_predicted ? format_percent(total.recall()) : QStringLiteral("–");
    case kColumnCount:
      break;
  }
  return {};
}

QVariant PolicyTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (role != Qt::DisplayRole) return {};
  if (orientation == Qt::Vertical)
    return section >= 0 && section < rows_ ? QVariant(section + 1) : QVariant();
  switch (section) {
    case kPolicy:
      return tr("Policy");
    case kRole:
      return tr("Role");
    case kDecodeHitRate:
      return tr("Hit rate (decode)");
    case kHitRate:
      return tr("Hit rate (all)");
    case kMisses:
      return tr("Misses");
    case kBytes:
      return tr("Bytes moved");
    case kStall:
      return tr("Modelled stall");
    case kPrecision:
      return tr("Prefetch precision");
    case kRecall:
      return tr("Prefetch recall");
    default:
      return {};
  }
}

}  // namespace moescope::views
