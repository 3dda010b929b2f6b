#pragma once
// The thin adapter between the views and the charting library. Qt Charts is deprecated from Qt
// 6.10 (Qt Graphs replaces it); views draw line charts only through this class, whose header
// names nothing of Qt Charts, so swapping the backend touches line_chart.cpp alone.
#include <QColor>
#include <QPointF>
#include <QString>
#include <QVector>
#include <QWidget>

#include <cmath>
#include <memory>

namespace moescope::views {

struct ExportTable;

struct SeriesStyle {
  QColor color;
  bool dashed = false;
  double width = 2.0;
};

class LineChart : public QWidget {
  Q_OBJECT
 public:
  explicit LineChart(QWidget* parent = nullptr);
  ~LineChart() override;

  void setTitle(const QString& title);
  void setAxisTitles(const QString& x, const QString& y);
  // Fixed y range (e.g. 0..1 for rates); otherwise the axes follow the data.
  void setYRange(double min, double max);
  void setYAutoRange();
  void setXRange(double min, double max);
  void setXAutoRange();
  // printf-style with a precision, e.g. "%.0f" (numbers follow the widget's locale).
  void setYLabelFormat(const QString& format);

  // Replaces all series. Long series are thinned to at most kMaxPoints (first and last kept).
  void clearSeries();
  void addSeries(const QString& name, const QVector<QPointF>& points, const SeriesStyle& style);
  // A vertical line across the plot at x, labelled in the legend.
  void addVerticalMarker(double x, const QString& label, const QColor& color);

  int seriesCount() const;
  int pointCount(int series) const;
  QString seriesName(int series) const;
  QColor seriesColor(int series) const;
  // Every point of a series, before thinning.
  QVector<QPointF> seriesPoints(int series) const;
  static constexpr int kMaxPoints = 2000;

  // x is a token position: integer ticks, clicks report the token under the cursor.
  void setXIsToken(bool token);
  // Marks x (the selected token) with a vertical line; NaN: no mark.
  void setMarkedX(double x);
  double markedX() const;
  // The x range on show: the zoom (wheel, or dragging across a range) or the data's.
  std::pair<double, double> xRange() const;
  // Zooms to [lo, hi] (lo >= hi: back to the whole range). Double-click resets too.
  void zoomX(double lo, double hi);
  bool zoomed() const;
  // The values of every series at x (nearest point), as the hover tooltip shows them.
  QString valuesAt(double x) const;
  // Widget position <-> x value (for tests and the panels).
  double xAt(const QPoint& widget_pos) const;
  QPoint positionOf(double x, double y) const;
  // The data as a table: series, x, y, one row per point (every point, not the thinned ones).
  ExportTable exportTable() const;

 Q_SIGNALS:
  // A click on the plot at token `x` (setXIsToken).
  void tokenClicked(int token);

 protected:
  void changeEvent(QEvent* event) override;
  bool eventFilter(QObject* watched, QEvent* event) override;

 private:
  void updateMarker();
  void applyXTicks(double lo, double hi);
  void rescale();
  void applyPalette();

  struct Impl;
  std::unique_ptr<Impl> d_;
};

}  // namespace moescope::views
