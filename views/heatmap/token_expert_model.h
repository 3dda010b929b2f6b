#pragma once
// Token x expert for one MoE layer (the shared selection's layer): one row per routed token, one
// column per expert of the layer; a cell holds the mixing weight when the token selected the
// expert, and is marked when the chosen policy missed it. Rows are appended as a live run grows.
#include <QAbstractTableModel>

namespace moescope::views {

class SessionController;

class TokenExpertModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  explicit TokenExpertModel(SessionController* session, QObject* parent = nullptr);

  int layer() const { return layer_; }

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation,
                      int role = Qt::DisplayRole) const override;
  Qt::ItemFlags flags(const QModelIndex& index) const override;

 private:
  void reset();
  void grow();
  void refresh();
  void tokenSelected(int token);

  SessionController* session_;
  int layer_ = 0;
  int rows_ = 0;
  int columns_ = 0;
  int selected_ = -1;
};

}  // namespace moescope::views
