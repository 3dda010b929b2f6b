#include "views/common/model_texts.h"

#include <QAbstractItemModel>

namespace moescope::views {

void retranslate_model(QAbstractItemModel& model) {
  const int rows = model.rowCount();
  const int columns = model.columnCount();
  if (columns > 0) Q_EMIT model.headerDataChanged(Qt::Horizontal, 0, columns - 1);
  if (rows > 0) Q_EMIT model.headerDataChanged(Qt::Vertical, 0, rows - 1);
  if (rows > 0 && columns > 0) {
    Q_EMIT model.dataChanged(model.index(0, 0), model.index(rows - 1, columns - 1));
  }
}

}  // namespace moescope::views
