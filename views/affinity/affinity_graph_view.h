#pragma once
// The expert affinity graph: a column of nodes per MoE layer (one per expert, sized by how often
// it was chosen), edges from layer l to l+1 weighted by the conditional probability
// P(e' at l+1 | e at l) of the run so far, drawn when at least the threshold. The selected
// token's path is highlighted; optionally co-activation within a layer is drawn as arcs.
#include <QPointF>
#include <QWidget>

namespace moescope::views {

class SessionController;
struct ExportTable;

class AffinityGraphView : public QWidget {
  Q_OBJECT
 public:
  explicit AffinityGraphView(SessionController* session, QWidget* parent = nullptr);

  double threshold() const { return threshold_; }
  void setThreshold(double p);
  void setShowCoactivation(bool show);
  // Node centre of (layer, expert) in widget coordinates.
  QPointF nodePos(int layer, int expert) const;
  // The node under a position: {layer, expert}, or {-1, -1}.
  std::pair<int, int> nodeAt(const QPointF& pos) const;
  // Edges drawn at the current threshold, and those on the selected token's path (for tests).
  int visibleEdges() const;
  int highlightedEdges() const;
  // The edges drawn at the threshold: layer, expert, next layer's expert, P(e' | e).
  ExportTable exportTable() const;

  QSize sizeHint() const override { return {600, 360}; }

 protected:
  void paintEvent(QPaintEvent* event) override;
  void mousePressEvent(QMouseEvent* event) override;
  bool event(QEvent* event) override;

 private:
  double nodeRadius(int layer, int expert) const;
  QString nodeTooltip(int layer, int expert) const;

  SessionController* session_;
  double threshold_ = 0.2;
  bool coactivation_ = false;
};

}  // namespace moescope::views
