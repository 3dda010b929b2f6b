#pragma once
// A horizontal colour bar with its title and the values at both ends (or, for categorical
// colourings, a row of swatches), drawn under heatmaps and the text view.
#include <QString>
#include <QVector>
#include <QWidget>

#include "views/common/color_scale.h"

namespace moescope::views {

class ColorLegend : public QWidget {
  Q_OBJECT
 public:
  explicit ColorLegend(QWidget* parent = nullptr);

  void setScale(ColorMap map, const QString& title, const QString& low, const QString& high);
  // Categorical: one swatch per entry.
  void setCategories(const QString& title, const QVector<QPair<QColor, QString>>& entries);

  QSize sizeHint() const override;
  QSize minimumSizeHint() const override;
  // Categories wrap onto more lines rather than being cut off.
  bool hasHeightForWidth() const override { return !categories_.isEmpty(); }
  int heightForWidth(int width) const override;
  // Where each category's swatch goes at a width (for painting and tests).
  QVector<QRect> categoryRects(int width) const;

 protected:
  void paintEvent(QPaintEvent* event) override;
  void resizeEvent(QResizeEvent* event) override;

 private:
  ColorMap map_ = ColorMap::kSequential;
  QString title_, low_, high_;
  QVector<QPair<QColor, QString>> categories_;
};

}  // namespace moescope::views
