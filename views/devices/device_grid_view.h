#pragma once
// A small painted matrix for the Devices panel: rows x columns of numbers coloured on the
// sequential map (device x layer loads, the device x device all-to-all), with a tooltip per cell.
#include <QString>
#include <QStringList>
#include <QWidget>

#include <vector>

namespace moescope::views {

class DeviceGridView : public QWidget {
  Q_OBJECT
 public:
  explicit DeviceGridView(QWidget* parent = nullptr);

  // values: row-major rows x cols; NaN cells are grey.
  void setGrid(int rows, int cols, std::vector<double> values, QStringList row_labels,
               QStringList col_labels, QString title);
  void clear();
  int rows() const { return rows_; }
  int cols() const { return cols_; }
  double value(int row, int col) const { return values_[size_t(row) * size_t(cols_) + size_t(col)]; }
  QSize sizeHint() const override;

 protected:
  void paintEvent(QPaintEvent* event) override;
  bool event(QEvent* event) override;

 private:
  QRect cellRect(int row, int col) const;

  int rows_ = 0, cols_ = 0;
  std::vector<double> values_;
  QStringList row_labels_, col_labels_;
  QString title_;
  double max_ = 0;
};

}  // namespace moescope::views
