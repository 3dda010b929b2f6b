#pragma once
// The suitability table (engine/policy/suitability.h): one row per window m with SRP(m) and the
// SCH-window(m) oracle's hit rate at k and 2k slots per layer, then LRU and Belady at k and 2k.
#include <QAbstractTableModel>

#include <memory>

#include "engine/policy/suitability.h"

namespace moescope::views {

class SuitabilityModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  enum Column { kName, kSrp, kAtK, kAt2K, kColumns };

  explicit SuitabilityModel(QObject* parent = nullptr);

  void setSuitability(std::shared_ptr<const policy::Suitability> s);
  const policy::Suitability* suitability() const { return s_.get(); }
  // Headers and names follow the interface language.
  void retranslate();

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation,
                      int role = Qt::DisplayRole) const override;

 private:
  int windows() const { return s_ ? int(s_->windows.size()) : 0; }
  // The hit rate in column `column` (kAtK or kAt2K) of `row`, NaN when empty.
  double rate(int row, int column) const;

  std::shared_ptr<const policy::Suitability> s_;
};

}  // namespace moescope::views
