#include "views/charts/line_chart.h"

#include <QChart>
#include <QChartView>
#include <QEvent>
#include <QLegendMarker>
#include <QLineSeries>
#include <QLocale>
#include <QMouseEvent>
#include <QToolTip>
#include <QVBoxLayout>
#include <QValueAxis>
#include <QWheelEvent>

#include <algorithm>
#include <cmath>
#include <limits>

#include "views/common/view_export.h"

namespace moescope::views {

struct LineChart::Impl {
  QChart* chart = nullptr;
  QChartView* view = nullptr;
  QValueAxis* x = nullptr;
  QValueAxis* y = nullptr;
  QList<QLineSeries*> series;
  QList<QVector<QPointF>> points;  // [series] every point, before thinning
  QList<bool> marker;              // [series] a vertical marker, not data
  QLineSeries* mark = nullptr;     // the selected token's line (no legend entry)
  bool fixed_y = false;
  bool fixed_x = false;
  bool y_format_set = false;
  bool x_token = false;
  double y_min = 0, y_max = 1, x_min = 0, x_max = 1;
  double marked = std::nan("");
  bool zoomed = false;
  double zoom_lo = 0, zoom_hi = 1;
  QPoint press;
  bool pressed = false;
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
  d_->view->viewport()->installEventFilter(this);
  d_->view->viewport()->setMouseTracking(true);
  d_->mark = new QLineSeries;
  d_->chart->addSeries(d_->mark);
  d_->mark->attachAxis(d_->x);
  d_->mark->attachAxis(d_->y);
  for (QLegendMarker* m : d_->chart->legend()->markers(d_->mark)) m->setVisible(false);
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
  QPen mark(palette().color(QPalette::Highlight));
  mark.setWidthF(1.5);
  d_->mark->setPen(mark);
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
  d_->y_format_set = true;
  d_->y->setLabelFormat(format);
}

void LineChart::clearSeries() {
  for (QLineSeries* s : d_->series) {
    d_->chart->removeSeries(s);
    delete s;
  }
  d_->series.clear();
  d_->points.clear();
  d_->marker.clear();
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
  d_->points.append(points);
  d_->marker.append(false);
  rescale();
}

void LineChart::addVerticalMarker(double x, const QString& label, const QColor& color) {
  const double lo = d_->y->min();
  const double hi = d_->y->max();
  SeriesStyle style{color, true, 1.5};
  addSeries(label, {QPointF(x, lo), QPointF(x, hi)}, style);
  d_->marker.back() = true;
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

QColor LineChart::seriesColor(int series) const {
  return series >= 0 && series < d_->series.size() ? d_->series[series]->pen().color() : QColor();
}

QVector<QPointF> LineChart::seriesPoints(int series) const {
  return series >= 0 && series < d_->points.size() ? d_->points[series] : QVector<QPointF>();
}

void LineChart::setXIsToken(bool token) {
  d_->x_token = token;
  rescale();
}

void LineChart::setMarkedX(double x) {
  d_->marked = x;
  updateMarker();
}

double LineChart::markedX() const {
  return d_->marked;
}

std::pair<double, double> LineChart::xRange() const {
  return {d_->x->min(), d_->x->max()};
}

void LineChart::zoomX(double lo, double hi) {
  d_->zoomed = lo < hi;
  d_->zoom_lo = lo;
  d_->zoom_hi = hi;
  rescale();
}

bool LineChart::zoomed() const {
  return d_->zoomed;
}

QString LineChart::valuesAt(double x) const {
  const QLocale loc = locale();
  QString text = d_->x_token ? tr("Token %1").arg(std::lround(x))
                             : QStringLiteral("%1 = %2").arg(d_->x->titleText(),
                                                             loc.toString(x, 'g', 4));
  for (int i = 0; i < d_->points.size(); ++i) {
    const QVector<QPointF>& p = d_->points[i];
    if (d_->marker[i] || p.isEmpty()) continue;
    // Points are in increasing x: the nearest one by bisection.
    auto it = std::lower_bound(p.begin(), p.end(), x,
                               [](const QPointF& a, double v) { return a.x() < v; });
    if (it == p.end()) --it;
    if (it != p.begin() && std::abs((it - 1)->x() - x) <= std::abs(it->x() - x)) --it;
    text += QStringLiteral("\n%1: %2").arg(d_->series[i]->name(), loc.toString(it->y(), 'g', 4));
  }
  return text;
}

double LineChart::xAt(const QPoint& widget_pos) const {
  const QPoint vp = d_->view->viewport()->mapFrom(this, widget_pos);
  const QPointF scene = d_->view->mapToScene(vp);
  return d_->chart->mapToValue(d_->chart->mapFromScene(scene)).x();
}

QPoint LineChart::positionOf(double x, double y) const {
  const QPointF item = d_->chart->mapToPosition(QPointF(x, y));
  const QPoint vp = d_->view->mapFromScene(d_->chart->mapToScene(item));
  return d_->view->viewport()->mapTo(this, vp);
}

ExportTable LineChart::exportTable() const {
  ExportTable t;
  t.header << tr("series") << (d_->x->titleText().isEmpty() ? QStringLiteral("x") : d_->x->titleText())
           << (d_->y->titleText().isEmpty() ? QStringLiteral("y") : d_->y->titleText());
  for (int i = 0; i < d_->points.size(); ++i) {
    if (d_->marker[i]) continue;
    for (const QPointF& p : d_->points[i]) {
      t.rows << QStringList{d_->series[i]->name(), csv_number(p.x()), csv_number(p.y())};
    }
  }
  return t;
}

bool LineChart::eventFilter(QObject* watched, QEvent* event) {
  if (watched != d_->view->viewport()) return QWidget::eventFilter(watched, event);
  auto widget_pos = [this](const QPointF& vp) {
    return d_->view->viewport()->mapTo(this, vp.toPoint());
  };
  auto in_plot = [this](const QPoint& vp) {
    return d_->chart->plotArea().contains(
        d_->chart->mapFromScene(d_->view->mapToScene(vp)));
  };
  switch (event->type()) {
    case QEvent::MouseMove: {
      auto* e = static_cast<QMouseEvent*>(event);
      if (!d_->pressed && in_plot(e->position().toPoint()) && !d_->points.isEmpty()) {
        QToolTip::showText(e->globalPosition().toPoint(),
                           valuesAt(xAt(widget_pos(e->position()))), d_->view);
      }
      return false;
    }
    case QEvent::MouseButtonPress: {
      auto* e = static_cast<QMouseEvent*>(event);
      if (e->button() != Qt::LeftButton) return false;
      d_->press = e->position().toPoint();
      d_->pressed = true;
      return true;
    }
    case QEvent::MouseButtonRelease: {
      auto* e = static_cast<QMouseEvent*>(event);
      if (e->button() != Qt::LeftButton || !d_->pressed) return false;
      d_->pressed = false;
      const QPoint end = e->position().toPoint();
      const double a = xAt(widget_pos(d_->press));
      const double b = xAt(widget_pos(end));
      if (std::abs(end.x() - d_->press.x()) > 6) {
        zoomX(std::min(a, b), std::max(a, b));  // dragged across a range: zoom to it
      } else if (d_->x_token && in_plot(end)) {
        Q_EMIT tokenClicked(int(std::lround(b)));
      }
      return true;
    }
    case QEvent::MouseButtonDblClick:
      zoomX(0, 0);
      return true;
    case QEvent::Wheel: {
      auto* e = static_cast<QWheelEvent*>(event);
      const double steps = e->angleDelta().y() / 120.0;
      if (steps == 0) return false;
      const auto [lo, hi] = xRange();
      const double at = std::clamp(xAt(widget_pos(e->position())), lo, hi);
      const double factor = std::pow(0.8, steps);
      zoomX(at - (at - lo) * factor, at + (hi - at) * factor);
      return true;
    }
    default:
      return false;
  }
}

void LineChart::updateMarker() {
  if (std::isnan(d_->marked)) {
    d_->mark->clear();
    return;
  }
  d_->mark->replace(
      QList<QPointF>{QPointF(d_->marked, d_->y->min()), QPointF(d_->marked, d_->y->max())});
}

void LineChart::applyXTicks(double lo, double hi) {
  if (!d_->x_token) return;
  // Whole tokens: an integer step of 1, 2 or 5 times a power of ten, about 8 ticks.
  const double raw = std::max(1.0, (hi - lo) / 8);
  const double p = std::pow(10.0, std::floor(std::log10(raw)));
  double step = p;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    if (m * p >= raw) {
      step = m * p;
      break;
    }
  }
  d_->x->setTickAnchor(0);
  d_->x->setTickInterval(step);
  d_->x->setLabelFormat("%.0f");
  d_->x->setTickType(QValueAxis::TicksDynamic);  // last: the interval fits the range by now
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
  double lo = d_->fixed_x ? d_->x_min : x0;
  double hi = d_->fixed_x ? d_->x_max : x1;
  if (d_->zoomed) {
    lo = std::max(lo, d_->zoom_lo);
    hi = std::min(hi, d_->zoom_hi);
    if (d_->x_token && hi - lo < 2) hi = lo + 2;  // no closer than a couple of tokens
  }
  // A token axis gets its tick interval for the new range before it is told of the range: with
  // the previous range's interval, a chart growing from 64 to 100k tokens would first lay out
  // some 100k ticks (minutes of the GUI thread in QtCharts' axis layout).
  if (d_->x_token) d_->x->setTickType(QValueAxis::TicksFixed);
  d_->x->setRange(lo, hi);
  applyXTicks(lo, hi);
  if (d_->fixed_y) {
    d_->y->setRange(d_->y_min, d_->y_max);
  } else {
    d_->y->setRange(std::min(0.0, y0), y1 * 1.05);
    d_->y->applyNiceNumbers();  // ticks at round values (0, 25, 50 ... rather than 28.27)
    if (!d_->y_format_set) {
      // Plain numbers, never "2.505E+04": no decimals once the values are large.
      const double span = d_->y->max() - d_->y->min();
      d_->y->setLabelFormat(span >= 20 ? "%.0f" : span >= 2 ? "%.1f" : "%.2f");
    }
  }
  updateMarker();
}

}  // namespace moescope::views
