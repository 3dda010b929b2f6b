#include "views/heatmap/heatmap_view.h"

#include <QAbstractItemModel>
#include <QHelpEvent>
#include <QKeyEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QScrollBar>
#include <QToolTip>
#include <QWheelEvent>

#include <algorithm>
#include <cmath>

#include "views/heatmap/heatmap_roles.h"

namespace moescope::views {
namespace {
constexpr int kMinCell = 3;
constexpr int kMaxNaturalCell = 28;
}  // namespace

HeatmapView::HeatmapView(QWidget* parent) : QAbstractScrollArea(parent) {
  viewport()->setMouseTracking(true);
  viewport()->setBackgroundRole(QPalette::Base);
  setFocusPolicy(Qt::StrongFocus);
}

void HeatmapView::setModel(QAbstractItemModel* model) {
  if (model_) disconnect(model_, nullptr, this, nullptr);
  model_ = model;
  if (model_) {
    auto relayout = [this] {
      updateGeometry();
      viewport()->update();
    };
    connect(model_, &QAbstractItemModel::modelReset, this, relayout);
    connect(model_, &QAbstractItemModel::layoutChanged, this, relayout);
    connect(model_, &QAbstractItemModel::dataChanged, viewport(), qOverload<>(&QWidget::update));
    connect(model_, &QAbstractItemModel::rowsInserted, this, [this] {
      const bool at_end = verticalScrollBar()->value() >= verticalScrollBar()->maximum() - 2;
      updateGeometry();
      if (follow_tail_ && at_end) verticalScrollBar()->setValue(verticalScrollBar()->maximum());
      viewport()->update();
    });
  }
  updateGeometry();
  viewport()->update();
}

QSize HeatmapView::cellSize() const {
  if (!model_) return {kMinCell, kMinCell};
  const int rows = std::max(1, model_->rowCount());
  const int cols = std::max(1, model_->columnCount());
  const QRect area = viewport()->rect().adjusted(label_width_, header_height_, 0, 0);
  // Natural size: columns share the width, rows get the same size (square cells) unless they
  // are too many to fit, then they shrink down to a few pixels and the view scrolls.
  const double w = std::clamp(double(area.width()) / cols, double(kMinCell), 80.0);
  const double h = std::clamp(std::min(w, double(area.height()) / rows), double(kMinCell),
                              double(kMaxNaturalCell));
  return {std::max(kMinCell, int(std::floor(w * zoom_))),
          std::max(kMinCell, int(std::floor(h * zoom_)))};
}

void HeatmapView::setZoom(double zoom) {
  zoom_ = std::clamp(zoom, 0.25, 40.0);
  updateGeometry();
  viewport()->update();
}

void HeatmapView::fit() {
  setZoom(1.0);
}

QRect HeatmapView::gridRect() const {
  return viewport()->rect().adjusted(label_width_, header_height_, 0, 0);
}

void HeatmapView::updateGeometry() {
  const QFontMetrics fm = fontMetrics();
  header_height_ = fm.height() + 4;
  label_width_ = 30;
  if (model_) {
    const int rows = model_->rowCount();
    // Room for a row number and a short word, so that most token labels read whole ...
    if (rows > 16) {
      label_width_ = fm.horizontalAdvance(QStringLiteral("%1 wordyy").arg(rows)) + 8;
    }
    // ... and measure a few labels (the widest are usually the last).
    for (int r : {0, rows / 2, rows - 1}) {
      if (r < 0 || r >= rows) continue;
      label_width_ = std::max(
          label_width_, fm.horizontalAdvance(model_->headerData(r, Qt::Vertical).toString()) + 8);
    }
    label_width_ = std::min(label_width_, 140);
  }
  const QSize cell = cellSize();
  const QRect area = gridRect();
  const int rows = model_ ? model_->rowCount() : 0;
  const int cols = model_ ? model_->columnCount() : 0;
  horizontalScrollBar()->setRange(0, std::max(0, cols * cell.width() - area.width()));
  horizontalScrollBar()->setPageStep(area.width());
  horizontalScrollBar()->setSingleStep(cell.width());
  verticalScrollBar()->setRange(0, std::max(0, rows * cell.height() - area.height()));
  verticalScrollBar()->setPageStep(area.height());
  verticalScrollBar()->setSingleStep(cell.height());
}

QModelIndex HeatmapView::indexAt(const QPoint& pos) const {
  if (!model_) return {};
  const QRect area = gridRect();
  if (!area.contains(pos)) return {};
  const QSize cell = cellSize();
  const int col = (pos.x() - area.left() + horizontalScrollBar()->value()) / cell.width();
  const int row = (pos.y() - area.top() + verticalScrollBar()->value()) / cell.height();
  if (row < 0 || col < 0 || row >= model_->rowCount() || col >= model_->columnCount()) return {};
  return model_->index(row, col);
}

QRect HeatmapView::cellRect(int row, int column) const {
  const QSize cell = cellSize();
  const QRect area = gridRect();
  return {area.left() + column * cell.width() - horizontalScrollBar()->value(),
          area.top() + row * cell.height() - verticalScrollBar()->value(), cell.width(),
          cell.height()};
}

void HeatmapView::scrollToRow(int row) {
  const QSize cell = cellSize();
  const int y = row * cell.height();
  const int h = gridRect().height();
  if (y < verticalScrollBar()->value() || y + cell.height() > verticalScrollBar()->value() + h) {
    verticalScrollBar()->setValue(y - h / 2);
  }
}

void HeatmapView::paintEvent(QPaintEvent*) {
  QPainter p(viewport());
  if (!model_) return;
  const int rows = model_->rowCount();
  const int cols = model_->columnCount();
  const QSize cell = cellSize();
  const QRect area = gridRect();
  const int dx = horizontalScrollBar()->value();
  const int dy = verticalScrollBar()->value();
  const int r0 = std::max(0, dy / cell.height());
  const int r1 = std::min(rows, (dy + area.height()) / cell.height() + 1);
  const int c0 = std::max(0, dx / cell.width());
  const int c1 = std::min(cols, (dx + area.width()) / cell.width() + 1);
  const QColor text = palette().color(QPalette::Text);
  const QColor highlight = palette().color(QPalette::Highlight);
  const QFontMetrics fm = fontMetrics();
  const bool show_text =
      cell.height() >= fm.height() && cell.width() >= fm.horizontalAdvance("0.00");

  // Nothing counted yet (no run, or a measure with no data): empty cells and a note, not a
  // grid in the colour of zero that reads like data.
  bool has_data = false;
  for (int r = r0; r < r1 && !has_data; ++r) {
    for (int c = c0; c < c1 && !has_data; ++c) {
      const double raw = model_->index(r, c).data(kRawValueRole).toDouble();
      has_data = std::isfinite(raw) && raw != 0;
    }
  }
  p.save();
  p.setClipRect(area);
  if (!has_data && rows > 0 && cols > 0) {
    QColor grid = text;
    grid.setAlphaF(0.25f);
    p.setPen(grid);
    p.setBrush(Qt::NoBrush);
    for (int r = r0; r < r1; ++r) {
      for (int c = c0; c < c1; ++c) {
        p.drawRect(QRect(area.left() + c * cell.width() - dx, area.top() + r * cell.height() - dy,
                         cell.width() - 1, cell.height() - 1));
      }
    }
    p.setPen(text);
    p.drawText(area, Qt::AlignCenter | Qt::TextWordWrap,
               tr("No data yet: generate, or open a trace"));
  }
  for (int r = r0; r < r1 && has_data; ++r) {
    for (int c = c0; c < c1; ++c) {
      const QModelIndex idx = model_->index(r, c);
      const QVariant v = idx.data(kValueRole);
      if (!v.isValid()) continue;
      const QRect rect(area.left() + c * cell.width() - dx, area.top() + r * cell.height() - dy,
                       cell.width() - (cell.width() > 6 ? 1 : 0),
                       cell.height() - (cell.height() > 6 ? 1 : 0));
      const QColor color = map_color(map_, v.toDouble());
      p.fillRect(rect, color);
      if (idx.data(kMarkRole).toBool()) {
        const int m = std::max(3, std::min(rect.width(), rect.height()) / 3);
        const QPoint tr = rect.topRight();
        p.setPen(Qt::NoPen);
        p.setBrush(QColor(220, 40, 40));
        p.drawPolygon(QPolygon({tr, tr - QPoint(m, 0), tr + QPoint(0, m)}));
      }
      if (show_text) {
        p.setPen(text_color_on(color));
        p.drawText(rect, Qt::AlignCenter, idx.data(Qt::DisplayRole).toString());
      }
    }
  }
  // Highlights on top, so neighbouring cells do not cover their outlines.
  // A dark and a light line: the outline shows on every cell colour, in both themes.
  p.setBrush(Qt::NoBrush);
  const int w = cell.width() > 6 ? 2 : 1;
  for (int r = r0; r < r1 && has_data; ++r) {
    for (int c = c0; c < c1; ++c) {
      if (!model_->index(r, c).data(kHighlightRole).toBool()) continue;
      const QRect rect(area.left() + c * cell.width() - dx, area.top() + r * cell.height() - dy,
                       cell.width() - 1, cell.height() - 1);
      p.setPen(QPen(QColor(20, 20, 20), w + 2));
      p.drawRect(rect);
      p.setPen(QPen(highlight.lightness() < 128 ? highlight.lighter(180) : highlight, w));
      p.drawRect(rect);
    }
  }
  p.restore();

  // Column labels, thinned out to what fits.
  p.setPen(text);
  const int every_col = std::max(1, (fm.horizontalAdvance("000") + 4) / cell.width() + 1);
  p.save();
  p.setClipRect(QRect(area.left(), 0, area.width(), header_height_));
  for (int c = c0; c < c1; ++c) {
    if (c % every_col) continue;
    p.drawText(
        QRect(area.left() + c * cell.width() - dx, 0, cell.width() * every_col, header_height_),
        Qt::AlignLeft | Qt::AlignVCenter, model_->headerData(c, Qt::Horizontal).toString());
  }
  p.restore();
  // Row labels.
  const int every_row =
      std::max(1, (fm.height() + 1) / cell.height() + ((fm.height() + 1) % cell.height() ? 1 : 0));
  p.save();
  p.setClipRect(QRect(0, area.top(), label_width_, area.height()));
  for (int r = r0; r < r1; ++r) {
    if (r % every_row) continue;
    p.drawText(QRect(2, area.top() + r * cell.height() - dy, label_width_ - 6,
                     std::max(cell.height(), fm.height())),
               Qt::AlignRight | Qt::AlignTop,
               fm.elidedText(model_->headerData(r, Qt::Vertical).toString(), Qt::ElideRight,
                             label_width_ - 6));
  }
  p.restore();
}

void HeatmapView::resizeEvent(QResizeEvent* event) {
  QAbstractScrollArea::resizeEvent(event);
  updateGeometry();
}

void HeatmapView::wheelEvent(QWheelEvent* event) {
  if (event->modifiers() & Qt::ControlModifier) {
    setZoom(zoom_ * std::pow(1.0015, event->angleDelta().y()));
    event->accept();
    return;
  }
  QAbstractScrollArea::wheelEvent(event);
}

void HeatmapView::mousePressEvent(QMouseEvent* event) {
  press_pos_ = event->position().toPoint();
  if (event->button() == Qt::LeftButton || event->button() == Qt::MiddleButton) {
    dragging_ = true;
    drag_start_ = press_pos_;
    scroll_start_ = {horizontalScrollBar()->value(), verticalScrollBar()->value()};
  }
}

void HeatmapView::mouseMoveEvent(QMouseEvent* event) {
  if (!dragging_) return;
  const QPoint d = event->position().toPoint() - drag_start_;
  if (d.manhattanLength() < 4) return;
  viewport()->setCursor(Qt::ClosedHandCursor);
  horizontalScrollBar()->setValue(scroll_start_.x() - d.x());
  verticalScrollBar()->setValue(scroll_start_.y() - d.y());
}

void HeatmapView::mouseReleaseEvent(QMouseEvent* event) {
  const bool was_drag = (event->position().toPoint() - press_pos_).manhattanLength() >= 4;
  dragging_ = false;
  viewport()->unsetCursor();
  if (was_drag || event->button() != Qt::LeftButton) return;
  const QModelIndex idx = indexAt(event->position().toPoint());
  if (idx.isValid() && (idx.flags() & Qt::ItemIsEnabled))
    Q_EMIT cellClicked(idx.row(), idx.column());
}

void HeatmapView::keyPressEvent(QKeyEvent* event) {
  switch (event->key()) {
    case Qt::Key_Plus:
    case Qt::Key_Equal:
      setZoom(zoom_ * 1.25);
      return;
    case Qt::Key_Minus:
      setZoom(zoom_ / 1.25);
      return;
    case Qt::Key_0:
      fit();
      return;
    default:
      QAbstractScrollArea::keyPressEvent(event);
  }
}

bool HeatmapView::viewportEvent(QEvent* event) {
  if (event->type() == QEvent::ToolTip) {
    auto* help = static_cast<QHelpEvent*>(event);
    const QModelIndex idx = indexAt(help->pos());
    const QString tip = idx.isValid() ? idx.data(Qt::ToolTipRole).toString() : QString();
    if (tip.isEmpty()) {
      QToolTip::hideText();
    } else {
      QToolTip::showText(help->globalPos(), tip, viewport());
    }
    return true;
  }
  return QAbstractScrollArea::viewportEvent(event);
}

}  // namespace moescope::views
