#pragma once
// Paints any table model that provides the heatmap roles (heatmap_roles.h) as a grid of coloured
// cells with row and column labels. Zoom with Ctrl+wheel or +/-, pan by dragging or with the
// scroll bars; 0 fits the grid to the view. Tooltips come from the model's ToolTipRole; clicks
// report the cell. Only visible cells are painted, so a 100k-row model costs what is on screen.
#include <QAbstractScrollArea>
#include <QPersistentModelIndex>
#include <QPointer>

#include "views/common/color_scale.h"

class QAbstractItemModel;

namespace moescope::views {

class HeatmapView : public QAbstractScrollArea {
  Q_OBJECT
 public:
  explicit HeatmapView(QWidget* parent = nullptr);

  void setModel(QAbstractItemModel* model);
  QAbstractItemModel* model() const { return model_; }
  void setColorMap(ColorMap map) {
    map_ = map;
    viewport()->update();
  }
  // Rows start at their natural height (fit, within limits); zoom scales both axes.
  double zoom() const { return zoom_; }
  void setZoom(double zoom);
  void fit();
  // The cell at a viewport position, or an invalid index.
  QModelIndex indexAt(const QPoint& pos) const;
  // Where a cell is, in viewport coordinates.
  QRect cellRect(int row, int column) const;
  // Scrolls so that the row is visible.
  void scrollToRow(int row);
  // Follow new rows at the bottom while the view is scrolled to the end.
  void setFollowTail(bool follow) { follow_tail_ = follow; }
  QSize cellSize() const;

 Q_SIGNALS:
  void cellClicked(int row, int column);

 protected:
  void paintEvent(QPaintEvent* event) override;
  void resizeEvent(QResizeEvent* event) override;
  void wheelEvent(QWheelEvent* event) override;
  void mousePressEvent(QMouseEvent* event) override;
  void mouseMoveEvent(QMouseEvent* event) override;
  void mouseReleaseEvent(QMouseEvent* event) override;
  void keyPressEvent(QKeyEvent* event) override;
  bool viewportEvent(QEvent* event) override;

 private:
  void updateGeometry();
  QRect gridRect() const;  // viewport area for cells (right of the row labels, below headers)

  QPointer<QAbstractItemModel> model_;
  ColorMap map_ = ColorMap::kSequential;
  double zoom_ = 1.0;
  int label_width_ = 40;
  int header_height_ = 18;
  bool follow_tail_ = true;
  bool dragging_ = false;
  QPoint drag_start_;
  QPoint scroll_start_;
  QPoint press_pos_;
};

}  // namespace moescope::views
