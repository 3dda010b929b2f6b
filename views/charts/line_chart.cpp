#include "views/charts/line_chart.h"

#include <QChart>
#include <QChartView>
#include <QEvent>
#include <QLegendMarker>
#include <QLineSeries>
#include <QLocale>
#include <QVBoxLayout>
#include <QValueAxis>

#include <algorithm>
#include <limits>

namespace moescope::views {

struct LineChart::Impl {
  QChart* chart = nullptr;
  QChartView* view = nullptr;
  QValueAxis* x = nullptr;
  QValueAxis* y = nullptr;
  QList<QLineSeries*> series;
  bool fixed_y = false;
  bool fixed_x = false;
  double y_min = 0, y_max = 1, x_min = 0, x_max = 1;
};

LineChart::LineChart(QWidget* parent) : QWidget(parent), d_(std::make_unique<Impl>()) {
  d_->chart = new QChart;
  d_->chart->setAnimationOptions(QChart::NoAnimation);
  // Axis numbers in the interface language's convention (decimal comma in German).
  d_->chart->setLocalizeNumbers(true);
  d_->chart->setLocale(locale());
  d_->chart->legend()->setAlignment(Qt::AlignBottom);
  d_->chart->setMargins(QMargins(4, 4, 4, 4));
  d_->x = new QValueAxis;
  d_->y = new QValueAxis;
  // Localized labels need an explicit precision ("%.Ng"): Qt Charts prints nothing for "%g".
  d_->x->setLabelFormat("%.4g");
  d_->y->setLabelFormat("%.4g");
  d_->chart->addAxis(d_->x, Qt::AlignBottom);
  d_->chart->addAxis(d_->y, Qt::AlignLeft);
  d_->view = new QChartView(d_->chart, this);
  d_->view->setRenderHint(QPainter::Antialiasing);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(d_->view);
  applyPalette();
}

// Follows the application palette (dark or light).
void LineChart::applyPalette() {
  const QColor text = palette().color(QPalette::Text);
  d_->chart->setBackgroundBrush(palette().color(QPalette::Base));
  d_->chart->setTitleBrush(text);
  d_->chart->legend()->setLabelColor(text);
  for (QValueAxis* a : {d_->x, d_->y}) {
    a->setLabelsColor(text);
    a->setTitleBrush(text);
    QColor grid = text;
    grid.setAlphaF(0.15f);
    a->setGridLineColor(grid);
  }
}

void LineChart::changeEvent(QEvent* event) {
  if (event->type() == QEvent::PaletteChange) applyPalette();
  if (event->type() == QEvent::LocaleChange) d_->chart->setLocale(locale());
  QWidget::changeEvent(event);
}

LineChart::~LineChart() = default;

void LineChart::setTitle(const QString& title) {
  d_->chart->setTitle(title);
}

void LineChart::setAxisTitles(const QString& x, const QString& y) {
  d_->x->setTitleText(x);
  d_->y->setTitleText(y);
}

void LineChart::setYRange(double min, double max) {
  d_->fixed_y = true;
  d_->y_min = min;
  d_->y_max = max;
  rescale();
}

void LineChart::setYAutoRange() {
  d_->fixed_y = false;
  rescale();
}

void LineChart::setXRange(double min, double max) {
  d_->fixed_x = true;
  d_->x_min = min;
  d_->x_max = max;
  rescale();
}

void LineChart::setXAutoRange() {
  d_->fixed_x = false;
  rescale();
}

void LineChart::setYLabelFormat(const QString& format) {
  d_->y->setLabelFormat(format);
}

void LineChart::clearSeries() {
  d_->chart->removeAllSeries();
  d_->series.clear();
}

void LineChart::addSeries(const QString& name, const QVector<QPointF>& points,
                          const SeriesStyle& style) {
  auto* s = new QLineSeries;
  s->setName(name);
  QList<QPointF> thinned;
  if (points.size() > kMaxPoints) {
    const double step = double(points.size() - 1) / double(kMaxPoints - 1);
    for (int i = 0; i < kMaxPoints; ++i) thinned.append(points[int(i * step + 0.5)]);
  } else {
    thinned = points;
  }
  s->replace(thinned);
  QPen pen(style.color.isValid() ? style.color : QColor(Qt::gray));
  pen.setWidthF(style.width);
  if (style.dashed) pen.setStyle(Qt::DashLine);
  s->setPen(pen);
  d_->chart->addSeries(s);
  s->attachAxis(d_->x);
  s->attachAxis(d_->y);
  d_->series.append(s);
  rescale();
}

void LineChart::addVerticalMarker(double x, const QString& label, const QColor& color) {
  const double lo = d_->y->min();
  const double hi = d_->y->max();
  SeriesStyle style{color, true, 1.5};
  addSeries(label, {QPointF(x, lo), QPointF(x, hi)}, style);
}

int LineChart::seriesCount() const {
  return int(d_->series.size());
}

int LineChart::pointCount(int series) const {
  return series >= 0 && series < d_->series.size() ? int(d_->series[series]->count()) : 0;
}

QString LineChart::seriesName(int series) const {
  return series >= 0 && series < d_->series.size() ? d_->series[series]->name() : QString();
}

void LineChart::rescale() {
  double x0 = std::numeric_limits<double>::max(), x1 = std::numeric_limits<double>::lowest();
  double y0 = x0, y1 = x1;
  for (QLineSeries* s : d_->series) {
    for (const QPointF& p : s->points()) {
      x0 = std::min(x0, p.x());
      x1 = std::max(x1, p.x());
      y0 = std::min(y0, p.y());
      y1 = std::max(y1, p.y());
    }
  }
  if (x0 > x1) {
    x0 = 0;
    x1 = 1;
    y0 = 0;
    y1 = 1;
  }
  if (x1 <= x0) x1 = x0 + 1;
  if (y1 <= y0) y1 = y0 + 1;
  if (d_->fixed_x) {
    d_->x->setRange(d_->x_min, d_->x_max);
  } else {
    d_->x->setRange(x0, x1);
  }
  if (d_->fixed_y) {
    d_->y->setRange(d_->y_min, d_->y_max);
  } else {
    d_->y->setRange(std::min(0.0, y0), y1 * 1.05);
    d_->y->applyNiceNumbers();  // ticks at round values (0, 25, 50 ... rather than 28.27)
  }
}

}  // namespace moescope::views
