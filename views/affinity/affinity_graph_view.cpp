#include "views/affinity/affinity_graph_view.h"

#include <QHelpEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QPainterPath>
#include <QToolTip>

#include <algorithm>
#include <cmath>
#include <vector>

#include "views/common/color_scale.h"
#include "views/common/format.h"
#include "views/common/view_export.h"
#include "views/session/analysis.h"
#include "views/session/session_controller.h"

namespace moescope::views {
namespace {
constexpr double kMargin = 28;
}

AffinityGraphView::AffinityGraphView(SessionController* session, QWidget* parent)
    : QWidget(parent), session_(session) {
  setObjectName("affinityGraph");
  setMouseTracking(true);
  setBackgroundRole(QPalette::Base);
  setAutoFillBackground(true);
  auto repaint = [this] { update(); };
  connect(session_, &SessionController::runStarted, this, repaint);
  connect(session_, &SessionController::analysisUpdated, this, repaint);
  connect(session_->selection(), &Selection::tokenChanged, this, repaint);
  connect(session_->selection(), &Selection::expertChanged, this, repaint);
}

void AffinityGraphView::setThreshold(double p) {
  threshold_ = std::clamp(p, 0.0, 1.0);
  update();
}

void AffinityGraphView::setShowCoactivation(bool show) {
  coactivation_ = show;
  update();
}

QPointF AffinityGraphView::nodePos(int l, int e) const {
  const RunData& run = session_->run();
  const int L = run.n_layers();
  const double w = width() - 2 * kMargin;
  const double h = height() - 2 * kMargin - 10;
  const double x = kMargin + (L > 1 ? w * l / (L - 1) : w / 2);
  const int n = run.n_experts(l);
  const double y = kMargin + 10 + (n > 1 ? h * e / (n - 1) : h / 2);
  return {x, y};
}

double AffinityGraphView::nodeRadius(int l, int e) const {
  const RunData& run = session_->run();
  const double step = (height() - 2 * kMargin) / std::max(1, run.max_experts());
  const double r_max = std::clamp(step * 0.45, 2.0, 12.0);
  const double max = double(run.max_activations());
  const double share = max > 0 ? double(run.activations(l, e)) / max : 0.0;
  return std::max(1.5, r_max * std::sqrt(share));
}

std::pair<int, int> AffinityGraphView::nodeAt(const QPointF& pos) const {
  const RunData& run = session_->run();
  std::pair<int, int> best{-1, -1};
  double best_d = 1e9;
  for (int l = 0; l < run.n_layers(); ++l) {
    for (int e = 0; e < run.n_experts(l); ++e) {
      const QPointF d = nodePos(l, e) - pos;
      const double dist = std::hypot(d.x(), d.y());
      if (dist < std::max(6.0, nodeRadius(l, e) + 2) && dist < best_d) {
        best_d = dist;
        best = {l, e};
      }
    }
  }
  return best;
}

ExportTable AffinityGraphView::exportTable() const {
  ExportTable t;
  t.header << "layer" << "expert" << "next_expert" << "probability";
  const auto& a = session_->run().analysis();
  if (!a) return t;
  for (size_t l = 0; l < a->affinity.size(); ++l) {
    const int n1 = session_->run().n_experts(int(l) + 1);
    const auto& m = a->affinity[l];
    for (size_t i = 0; i < m.size(); ++i) {
      if (m[i] < threshold_ || m[i] <= 0) continue;
      t.rows << QStringList{QString::number(l), QString::number(i / size_t(n1)),
                            QString::number(i % size_t(n1)), csv_number(m[i])};
    }
  }
  return t;
}

int AffinityGraphView::visibleEdges() const {
  const auto& a = session_->run().analysis();
  if (!a) return 0;
  int n = 0;
  for (const auto& m : a->affinity) {
    for (double p : m) n += p >= threshold_ && p > 0;
  }
  return n;
}

int AffinityGraphView::highlightedEdges() const {
  const RunData& run = session_->run();
  const int t = session_->selection()->token();
  if (!run.routed(t)) return 0;
  int n = 0;
  for (int l = 0; l + 1 < run.n_layers(); ++l) {
    n += int(run.experts(t, l).size() * run.experts(t, l + 1).size());
  }
  return n;
}

void AffinityGraphView::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.setRenderHint(QPainter::Antialiasing);
  const RunData& run = session_->run();
  const int L = run.n_layers();
  const QColor text = palette().color(QPalette::Text);
  if (L == 0 || run.routed_count() == 0) {
    p.setPen(text);
    p.drawText(rect(), Qt::AlignCenter | Qt::TextWordWrap,
               tr("The affinity graph appears once tokens have been routed."));
    return;
  }
  const auto& a = run.analysis();
  // Layer labels.
  p.setPen(text);
  for (int l = 0; l < L; ++l) {
    const QPointF top = nodePos(l, 0);
    p.drawText(QRectF(top.x() - 30, 2, 60, kMargin - 4), Qt::AlignCenter, tr("L%1").arg(l));
  }
  // Expert labels in the left margin, thinned to what the row height allows.
  {
    QFont small = font();
    small.setPointSizeF(std::max(6.0, small.pointSizeF() * 0.8));
    p.setFont(small);
    const QFontMetricsF fm(small);
    const int n = run.n_experts(0);
    const double step = n > 1 ? nodePos(0, 1).y() - nodePos(0, 0).y() : fm.height();
    const int every = std::max(1, int(std::ceil(fm.height() / std::max(1.0, step))));
    for (int e = 0; e < n; e += every) {
      const QPointF c = nodePos(0, e);
      p.drawText(QRectF(0, c.y() - fm.height() / 2, c.x() - nodeRadius(0, e) - 2, fm.height()),
                 Qt::AlignRight | Qt::AlignVCenter, tr("E%1").arg(e));
    }
    p.setFont(font());
  }
  // Affinity edges l -> l+1.
  if (a) {
    for (int l = 0; l + 1 < L && l < int(a->affinity.size()); ++l) {
      const int n0 = run.n_experts(l), n1 = run.n_experts(l + 1);
      const auto& m = a->affinity[size_t(l)];
      for (int i = 0; i < n0; ++i) {
        for (int j = 0; j < n1; ++j) {
          const double prob = m[size_t(i) * size_t(n1) + size_t(j)];
          if (prob < threshold_ || prob <= 0) continue;
          QColor c = map_color(ColorMap::kSequential, prob);
          c.setAlphaF(float(0.25 + 0.6 * prob));
          p.setPen(QPen(c, 0.5 + 4.0 * prob));
          p.drawLine(nodePos(l, i), nodePos(l + 1, j));
        }
      }
    }
    if (coactivation_) {
      for (int l = 0; l < L && l < int(a->coactivation.size()); ++l) {
        const int n = run.n_experts(l);
        const auto& m = a->coactivation[size_t(l)];
        for (int i = 0; i < n; ++i) {
          for (int j = i + 1; j < n; ++j) {
            const double prob = std::max(m[size_t(i) * size_t(n) + size_t(j)],
                                         m[size_t(j) * size_t(n) + size_t(i)]);
            if (prob < threshold_ || prob <= 0) continue;
            const QPointF a0 = nodePos(l, i), a1 = nodePos(l, j);
            QPainterPath arc(a0);
            const double bulge = 8 + 0.25 * (a1.y() - a0.y());
            arc.cubicTo(a0 + QPointF(-bulge, 0), a1 + QPointF(-bulge, 0), a1);
            QColor c(230, 120, 30);
            c.setAlphaF(float(0.3 + 0.6 * prob));
            p.setPen(QPen(c, 0.5 + 3.0 * prob, Qt::DashLine));
            p.setBrush(Qt::NoBrush);
            p.drawPath(arc);
          }
        }
      }
    }
  }
  // The selected token's path on top.
  const QColor highlight = palette().color(QPalette::Highlight);
  const int t = session_->selection()->token();
  if (run.routed(t)) {
    p.setPen(QPen(highlight, 3));
    for (int l = 0; l + 1 < L; ++l) {
      for (ExpertId i : run.experts(t, l)) {
        for (ExpertId j : run.experts(t, l + 1))
          p.drawLine(nodePos(l, i.value), nodePos(l + 1, j.value));
      }
    }
  }
  // Nodes.
  const int sel_layer = session_->selection()->layer();
  const int sel_expert = session_->selection()->expert();
  for (int l = 0; l < L; ++l) {
    for (int e = 0; e < run.n_experts(l); ++e) {
      const double r = nodeRadius(l, e);
      const bool on_path = run.routed(t) && run.rank_of(t, l, e) >= 0;
      p.setBrush(categorical_color(e));
      p.setPen(on_path ? QPen(highlight, 2.5) : QPen(text, 0.5));
      if (l == sel_layer && e == sel_expert) p.setPen(QPen(text, 3));
      p.drawEllipse(nodePos(l, e), r, r);
    }
  }
}

void AffinityGraphView::mousePressEvent(QMouseEvent* event) {
  const auto [l, e] = nodeAt(event->position());
  if (l >= 0) session_->selection()->setExpert(l, e);
}

QString AffinityGraphView::nodeTooltip(int l, int e) const {
  const RunData& run = session_->run();
  QString tip = tr("Layer %1, expert %2: chosen %3 times")
                    .arg(l)
                    .arg(e)
                    .arg(format_count(run.activations(l, e)));
  const auto& a = run.analysis();
  if (a && l + 1 < run.n_layers() && l < int(a->affinity.size())) {
    const int n1 = run.n_experts(l + 1);
    std::vector<std::pair<double, int>> next;
    for (int j = 0; j < n1; ++j)
      next.push_back({a->affinity[size_t(l)][size_t(e) * size_t(n1) + size_t(j)], j});
    std::sort(next.rbegin(), next.rend());
    QStringList parts;
    for (size_t i = 0; i < std::min<size_t>(3, next.size()); ++i) {
      if (next[i].first <= 0) break;
      parts << tr("%1 (%2)").arg(next[i].second).arg(format_percent(next[i].first));
    }
    if (!parts.isEmpty()) tip += "\n" + tr("Next layer: %1").arg(parts.join(", "));
  }
  return tip;
}

bool AffinityGraphView::event(QEvent* event) {
  if (event->type() == QEvent::ToolTip) {
    auto* help = static_cast<QHelpEvent*>(event);
    const auto [l, e] = nodeAt(help->pos());
    if (l >= 0) {
      QToolTip::showText(help->globalPos(), nodeTooltip(l, e), this);
    } else {
      QToolTip::hideText();
    }
    return true;
  }
  return QWidget::event(event);
}

}  // namespace moescope::views
