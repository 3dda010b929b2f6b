#include "views/common/color_legend.h"

#include <QLinearGradient>
#include <QPainter>

namespace moescope::views {

ColorLegend::ColorLegend(QWidget* parent) : QWidget(parent) {
  setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
}

void ColorLegend::setScale(ColorMap map, const QString& title, const QString& low,
                           const QString& high) {
  map_ = map;
  title_ = title;
  low_ = low;
  high_ = high;
  categories_.clear();
  setMinimumHeight(0);
  setMaximumHeight(QWIDGETSIZE_MAX);
  updateGeometry();
  update();
}

void ColorLegend::setCategories(const QString& title,
                                const QVector<QPair<QColor, QString>>& entries) {
  title_ = title;
  categories_ = entries;
  setFixedHeight(heightForWidth(std::max(width(), 120)));
  updateGeometry();
  update();
}

QSize ColorLegend::sizeHint() const {
  return {320, categories_.isEmpty() ? fontMetrics().height() + 8 : heightForWidth(320)};
}

QVector<QRect> ColorLegend::categoryRects(int width) const {
  const QFontMetrics fm = fontMetrics();
  const int h = fm.height();
  const int left = 4 + (title_.isEmpty() ? 0 : fm.horizontalAdvance(title_) + 8);
  QVector<QRect> out;
  int x = left, y = 4;
  for (const auto& entry : categories_) {
    const int w = h + fm.horizontalAdvance(entry.second) + 10;
    if (x + w > width && x > left) {
      x = left;
      y += h + 2;
    }
    out.append(QRect(x, y, w, h));
    x += w;
  }
  return out;
}

int ColorLegend::heightForWidth(int width) const {
  if (categories_.isEmpty()) return fontMetrics().height() + 8;
  const QVector<QRect> rects = categoryRects(width);
  return (rects.isEmpty() ? fontMetrics().height() : rects.back().bottom()) + 6;
}

void ColorLegend::resizeEvent(QResizeEvent* event) {
  QWidget::resizeEvent(event);
  if (!categories_.isEmpty() && height() != heightForWidth(width())) {
    setFixedHeight(heightForWidth(width()));
  }
}

QSize ColorLegend::minimumSizeHint() const {
  return {120, fontMetrics().height() + 8};
}

void ColorLegend::paintEvent(QPaintEvent*) {
  QPainter p(this);
  const QFontMetrics fm = fontMetrics();
  const int h = fm.height();
  const int y = (height() - h) / 2;
  int x = 4;
  p.setPen(palette().color(QPalette::WindowText));
  if (!title_.isEmpty()) {
    p.drawText(QRect(x, y, fm.horizontalAdvance(title_), h), Qt::AlignVCenter, title_);
    x += fm.horizontalAdvance(title_) + 8;
  }
  if (!categories_.isEmpty()) {
    const QVector<QRect> rects = categoryRects(width());
    for (int i = 0; i < categories_.size(); ++i) {
      const QRect r = rects[i];
      p.fillRect(QRect(r.x(), r.y() + 2, h - 4, h - 4), categories_[i].first);
      p.drawText(QRect(r.x() + h, r.y(), r.width() - h, h), Qt::AlignVCenter,
                 categories_[i].second);
    }
    return;
  }
  const int low_w = fm.horizontalAdvance(low_);
  const int high_w = fm.horizontalAdvance(high_);
  p.drawText(QRect(x, y, low_w, h), Qt::AlignVCenter, low_);
  x += low_w + 6;
  const int bar_w = std::max(20, width() - x - high_w - 10);
  QLinearGradient g(x, 0, x + bar_w, 0);
  for (int i = 0; i <= 10; ++i) g.setColorAt(i / 10.0, map_color(map_, i / 10.0));
  p.fillRect(QRect(x, y + 2, bar_w, h - 4), g);
  x += bar_w + 6;
  p.drawText(QRect(x, y, high_w, h), Qt::AlignVCenter, high_);
}

}  // namespace moescope::views
