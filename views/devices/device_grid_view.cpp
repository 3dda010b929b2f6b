#include "views/devices/device_grid_view.h"

#include <QHelpEvent>
#include <QPainter>
#include <QToolTip>

#include <algorithm>
#include <cmath>

#include "views/common/color_scale.h"

namespace moescope::views {
namespace {

constexpr int kLabel = 40;   // room for row labels
constexpr int kTitle = 20;   // room for the title
constexpr int kHeader = 16;  // room for column labels

}  // namespace

DeviceGridView::DeviceGridView(QWidget* parent) : QWidget(parent) {
  setMinimumSize(160, 120);
  setMouseTracking(true);
}

void DeviceGridView::setGrid(int rows, int cols, std::vector<double> values, QStringList row_labels,
                             QStringList col_labels, QString title) {
  rows_ = rows;
  cols_ = cols;
  values_ = std::move(values);
  row_labels_ = std::move(row_labels);
  col_labels_ = std::move(col_labels);
  title_ = std::move(title);
  max_ = 0;
  for (double v : values_)
    if (std::isfinite(v)) max_ = std::max(max_, v);
  update();
}

void DeviceGridView::clear() { setGrid(0, 0, {}, {}, {}, {}); }

QSize DeviceGridView::sizeHint() const { return {kLabel + 24 * std::max(cols_, 4), kTitle + kHeader + 18 * std::max(rows_, 4)}; }

QRect DeviceGridView::cellRect(int row, int col) const {
  const double w = double(width() - kLabel) / std::max(cols_, 1);
  const double h = double(height() - kTitle - kHeader) / std::max(rows_, 1);
  return QRect(kLabel + int(col * w), kTitle + kHeader + int(row * h), std::max(1, int(w) - 1),
               std::max(1, int(h) - 1));
}

void DeviceGridView::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.setPen(palette().color(QPalette::WindowText));
  p.drawText(QRect(0, 0, width(), kTitle), Qt::AlignLeft | Qt::AlignVCenter, title_);
  for (int c = 0; c < cols_; ++c) {
    const QRect r = cellRect(0, c);
    p.drawText(QRect(r.left(), kTitle, r.width(), kHeader), Qt::AlignCenter, col_labels_.value(c));
  }
  for (int r = 0; r < rows_; ++r) {
    const QRect first = cellRect(r, 0);
    p.setPen(palette().color(QPalette::WindowText));
    p.drawText(QRect(0, first.top(), kLabel - 4, first.height()), Qt::AlignRight | Qt::AlignVCenter,
               row_labels_.value(r));
    for (int c = 0; c < cols_; ++c) {
      const double v = value(r, c);
      p.fillRect(cellRect(r, c), map_color(ColorMap::kSequential,
                                           std::isfinite(v) && max_ > 0 ? v / max_ : std::nan("")));
    }
  }
}

bool DeviceGridView::event(QEvent* event) {
  if (event->type() == QEvent::ToolTip) {
    const auto* help = static_cast<QHelpEvent*>(event);
    for (int r = 0; r < rows_; ++r)
      for (int c = 0; c < cols_; ++c)
        if (cellRect(r, c).contains(help->pos())) {
          QToolTip::showText(help->globalPos(), tr("%1, %2: %3")
                                                    .arg(row_labels_.value(r), col_labels_.value(c))
                                                    .arg(value(r, c)));
          return true;
        }
    QToolTip::hideText();
    event->ignore();
    return true;
  }
  return QWidget::event(event);
}

}  // namespace moescope::views
