#pragma once
// The generated text as tokens. Each token is a box coloured by the chosen measure; hovering shows
// its routing path (per layer: experts, weights, hit / miss / prefetch of the chosen policy);
// clicking selects it in every view. Layout is incremental: new tokens are placed after the
// last one, so a long live run costs only what it adds.
#include <QAbstractScrollArea>
#include <QHash>
#include <QPoint>
#include <QRect>
#include <QString>

#include <vector>

#include "views/session/run_delta.h"
#include "views/text/token_measure.h"

namespace moescope::views {

class SessionController;
struct ExportTable;

class TokenTextView : public QAbstractScrollArea {
  Q_OBJECT
 public:
  explicit TokenTextView(SessionController* session, QWidget* parent = nullptr);

  TokenMeasure measure() const { return measure_; }
  void setMeasure(TokenMeasure measure);
  // Tokens laid out so far (for tests).
  int laidOutTokens() const { return int(starts_.size()); }
  // The token under a viewport position, or -1.
  int tokenAt(const QPoint& viewport_pos) const;
  // Where a token's first box is, in viewport coordinates (invalid when not laid out).
  QRect tokenRect(int token) const;
  // The tooltip text for a token (HTML).
  QString routingTooltip(int token) const;
  // The tokens as a table: position, id, text, prompt or generated, the measure's raw value.
  ExportTable exportTable() const;

 protected:
  void paintEvent(QPaintEvent* event) override;
  void resizeEvent(QResizeEvent* event) override;
  void mouseMoveEvent(QMouseEvent* event) override;
  void mousePressEvent(QMouseEvent* event) override;
  void keyPressEvent(QKeyEvent* event) override;
  bool viewportEvent(QEvent* event) override;
  void changeEvent(QEvent* event) override;

 private:
  struct Box {
    int token;
    QRect rect;  // content coordinates
    QString text;
  };
  void relayout(int from_token);
  // fm.horizontalAdvance(piece), remembered per piece until the font changes: a 100k-token
  // text repeats a few thousand pieces, and shaping each token anew kept the GUI thread busy
  // for seconds when such a trace was opened or the view resized.
  int advance(const QFontMetrics& fm, const QString& piece);
  void updateScrollBars();
  void ensureVisible(int token);
  QString displayText(int token) const;
  // What a control token is, for its tooltip.
  QString specialDescription(const TokenInfo& token) const;

  SessionController* session_;
  TokenMeasure measure_ = TokenMeasure::kMisses;
  MeasureScale scale_;
  std::vector<Box> boxes_;
  std::vector<int> first_box_;  // [laid-out tokens] index of the token's first box
  std::vector<QPoint> starts_;  // [laid-out tokens] cursor before the token
  QPoint cursor_;               // where the next token goes
  int line_height_ = 0;
  int content_height_ = 0;
  int hover_ = -1;
  QHash<QString, int> advance_;  // advance() of each piece in the current font
};

}  // namespace moescope::views
