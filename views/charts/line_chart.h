#pragma once
// The thin adapter between the views and the charting library. Qt Charts is deprecated from Qt
// 6.10 (Qt Graphs replaces it); views draw line charts only through this class, whose header
// names nothing of Qt Charts, so swapping the backend touches line_chart.cpp alone.
#include <QColor>
#include <QPointF>
#include <QString>
#include <QVector>
#include <QWidget>

#include <memory>

namespace moescope::views {

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
  static constexpr int kMaxPoints = 2000;

 protected:
  void changeEvent(QEvent* event) override;

 private:
  void rescale();
  void applyPalette();

  struct Impl;
  std::unique_ptr<Impl> d_;
};

}  // namespace moescope::views
