#pragma once
// The suitability table (engine/policy/suitability.h): one row per segment length m with the
// paper's model-level SRP(m) and SCH(m) with one pool of k and 2k slots per layer in total, then
// LRU and OPT (demand MIN, the bound) with the same pools.
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
