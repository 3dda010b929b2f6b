#pragma once
// Layer x expert: one row per MoE layer, one column per expert (layers with fewer experts leave
// cells empty). The measure is chosen: activation counts, the chosen policy's hit rate, or the
// share of the run each expert spent resident in the cache. Cells on the selected token's routing
// path are highlighted.
#include <QAbstractTableModel>

namespace moescope::views {

class SessionController;

class LayerExpertModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  enum class Measure { kActivations, kHitRate, kResidency };
  Q_ENUM(Measure)

  explicit LayerExpertModel(SessionController* session, QObject* parent = nullptr);

  Measure measure() const { return measure_; }
  void setMeasure(Measure measure);

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation,
                      int role = Qt::DisplayRole) const override;
  Qt::ItemFlags flags(const QModelIndex& index) const override;

  // The raw value of (layer, expert) for the current measure, NaN when unknown.
  double raw(int layer, int expert) const;

 private:
  void reset();
  void refresh();

  SessionController* session_;
  Measure measure_ = Measure::kActivations;
  int rows_ = 0;
  int columns_ = 0;
};

}  // namespace moescope::views
