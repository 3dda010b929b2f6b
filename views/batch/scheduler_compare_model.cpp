#include "views/batch/scheduler_compare_model.h"

#include <QLocale>

#include "views/common/format.h"

namespace moescope::views {

void SchedulerCompareModel::setRuns(const std::vector<BatchRun>& runs) {
  if (runs.size() != summaries_.size()) {
    beginResetModel();
    schedulers_.clear();
    summaries_.clear();
    for (const BatchRun& r : runs) {
      schedulers_.push_back(r.scheduler);
      summaries_.push_back(r.summary());
    }
    endResetModel();
    return;
  }
  for (size_t i = 0; i < runs.size(); ++i) {
    schedulers_[i] = runs[i].scheduler;
    summaries_[i] = runs[i].summary();
  }
  if (!runs.empty()) Q_EMIT dataChanged(index(0, 0), index(int(runs.size()) - 1, kColumnCount - 1));
}

int SchedulerCompareModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : int(summaries_.size());
}

int SchedulerCompareModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : kColumnCount;
}

QVariant SchedulerCompareModel::data(const QModelIndex& index, int role) const {
  if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) {
    return {};
  }
  if (role == Qt::TextAlignmentRole && index.column() != kScheduler)
    return int(Qt::AlignRight | Qt::AlignVCenter);
  if (role != Qt::DisplayRole) return {};
  const BatchSummary& s = summaries_[size_t(index.row())];
  const QLocale locale;
  switch (Column(index.column())) {
    case kScheduler:
      return schedulers_[size_t(index.row())].isEmpty() ? tr("(not recorded)")
                                                        : schedulers_[size_t(index.row())];
    case kSteps:
      return qlonglong(s.steps);
    case kDistinct:
      return locale.toString(s.mean_distinct, 'f', 2);
    case kStraggler:
      return locale.toString(s.mean_straggler, 'f', 2);
    case kBytes:
      return s.bytes < 0 ? QStringLiteral("—") : format_bytes(uint64_t(s.bytes));
    case kTokensPerS:
      return s.tokens_per_s > 0 ? locale.toString(s.tokens_per_s, 'f', 1) : QStringLiteral("—");
    case kTtftP95:
      return s.ttft_p95_ms < 0 ? QStringLiteral("—") : locale.toString(s.ttft_p95_ms, 'f', 1);
    case kColumnCount:
      break;
  }
  return {};
}

QVariant SchedulerCompareModel::headerData(int section, Qt::Orientation orientation,
                                           int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
  switch (section) {
    case kScheduler:
      return tr("Scheduler");
    case kSteps:
      return tr("Steps");
    case kDistinct:
      return tr("Distinct experts per step-layer");
    case kStraggler:
      return tr("Straggler (mean)");
    case kBytes:
      return tr("Bytes moved");
    case kTokensPerS:
      return tr("Tokens/s");
    case kTtftP95:
      return tr("p95 TTFT (ms)");
    default:
      return {};
  }
}

}  // namespace moescope::views
