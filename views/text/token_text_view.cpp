#include "views/text/token_text_view.h"

#include <QEvent>
#include <QHelpEvent>
#include <QKeyEvent>
#include <QLocale>
#include <QMouseEvent>
#include <QPainter>
#include <QScrollBar>
#include <QToolTip>

#include <algorithm>
#include <cmath>

#include "views/common/color_scale.h"
#include "views/common/format.h"
#include "views/common/view_export.h"
#include "views/session/analysis.h"
#include "views/session/session_controller.h"

namespace moescope::views {
namespace {
constexpr int kMargin = 6;
constexpr int kPad = 1;       // horizontal padding inside a token box
constexpr int kBadgePad = 4;  // inside a control token's badge, left and right

QFont badge_font(const QFont& base) {
  QFont f = base;
  f.setPointSizeF(base.pointSizeF() * 0.8);
  return f;
}

// A grey that reads on light and dark backgrounds alike, with white text.
const QColor kBadgeColor(112, 112, 120);
}  // namespace

TokenTextView::TokenTextView(SessionController* session, QWidget* parent)
    : QAbstractScrollArea(parent), session_(session) {
  setObjectName("tokenText");
  viewport()->setMouseTracking(true);
  viewport()->setBackgroundRole(QPalette::Base);
  setFocusPolicy(Qt::StrongFocus);
  QFont f = font();
  f.setPointSizeF(f.pointSizeF() * 1.15);
  setFont(f);
  connect(session_, &SessionController::runStarted, this, [this] {
    relayout(0);
    verticalScrollBar()->setValue(0);
  });
  connect(session_, &SessionController::runUpdated, this, [this](int first_token, int) {
    const bool at_bottom = verticalScrollBar()->value() >= verticalScrollBar()->maximum() - 4;
    // The last known token may have received held-back text: lay it out again.
    relayout(std::max(0, first_token - 1));
    if (at_bottom) verticalScrollBar()->setValue(verticalScrollBar()->maximum());
  });
  connect(session_, &SessionController::analysisUpdated, this, [this] {
    scale_ = measure_scale(session_->run());
    viewport()->update();
  });
  connect(session_->selection(), &Selection::tokenChanged, this, [this](int token) {
    if (token >= 0) ensureVisible(token);
    viewport()->update();
  });
  connect(session_->selection(), &Selection::layerChanged, this, [this] { viewport()->update(); });
}

void TokenTextView::setMeasure(TokenMeasure measure) {
  measure_ = measure;
  scale_ = measure_scale(session_->run());
  viewport()->update();
}

QString TokenTextView::displayText(int t) const {
  const TokenInfo& tok = session_->run().token(t);
  return tok.text;  // a control token's name; it is drawn as a badge
}

int TokenTextView::advance(const QFontMetrics& fm, const QString& piece) {
  const auto it = advance_.constFind(piece);
  if (it != advance_.constEnd()) return *it;
  const int w = fm.horizontalAdvance(piece);
  advance_.insert(piece, w);
  return w;
}

void TokenTextView::relayout(int from) {
  const RunData& run = session_->run();
  line_height_ = fontMetrics().height() + 4;
  from = std::clamp(from, 0, int(starts_.size()));
  // Start at the beginning of the word `from` continues, so that it can move as a whole.
  auto continues_word = [&run](int t) {
    const TokenInfo& a = run.token(t - 1);
    const TokenInfo& b = run.token(t);
    return !a.special && !b.special && !a.text.isEmpty() && !b.text.isEmpty() &&
           !a.text.back().isSpace() && !b.text.front().isSpace();
  };
  while (from > 0 && from < run.token_count() && continues_word(from)) --from;
  if (from < int(starts_.size())) {
    boxes_.resize(size_t(first_box_[size_t(from)]));
    cursor_ = starts_[size_t(from)];
    first_box_.resize(size_t(from));
    starts_.resize(size_t(from));
  }
  if (from == 0) {
    boxes_.clear();
    cursor_ = QPoint(kMargin, kMargin);
  }
  const QFontMetrics fm = fontMetrics();
  const int right = std::max(viewport()->width() - kMargin, kMargin + 40);
  // Lines break between words, not inside one: the boxes of the word being laid out (tokens
  // since the last one that began with a space) move to the next line together.
  size_t word_box = boxes_.size();
  int word_token = from;
  bool after_space = true;
  auto new_line = [&] { cursor_ = QPoint(kMargin, cursor_.y() + line_height_); };
  for (int t = from; t < run.token_count(); ++t) {
    starts_.push_back(cursor_);
    first_box_.push_back(int(boxes_.size()));
    if (run.token(t).special) {
      // One badge, never split over lines.
      const int w = QFontMetrics(badge_font(font())).horizontalAdvance(displayText(t)) +
                    2 * kBadgePad + 2 * kPad + 2;
      if (cursor_.x() + w > right && cursor_.x() > kMargin) new_line();
      boxes_.push_back({t, QRect(cursor_.x(), cursor_.y(), w, line_height_ - 2), displayText(t)});
      cursor_.rx() += w;
      word_box = boxes_.size();
      word_token = t + 1;
      after_space = true;
      continue;
    }
    const QStringList lines = displayText(t).split('\n');
    for (int i = 0; i < lines.size(); ++i) {
      if (i > 0) {
        new_line();
        after_space = true;
      }
      const QString& piece = lines[i];
      const bool begins_word = after_space || piece.isEmpty() || piece.front().isSpace();
      if (begins_word) {
        word_box = boxes_.size();
        word_token = t;
      }
      // An empty piece (part of a character, or a bare newline) still gets a sliver to hover.
      const int w = std::max(4, advance(fm, piece) + 2 * kPad);
      if (cursor_.x() + w > right && cursor_.x() > kMargin) {
        const bool word_on_line = word_box < boxes_.size() &&
                                  boxes_[word_box].rect.y() == cursor_.y() &&
                                  boxes_[word_box].rect.x() > kMargin;
        const int word_x = word_on_line ? boxes_[word_box].rect.x() : cursor_.x();
        if (!begins_word && word_on_line && cursor_.x() + w - word_x <= right - kMargin) {
          const QPoint shift(kMargin - word_x, line_height_);
          for (size_t b = word_box; b < boxes_.size(); ++b) boxes_[b].rect.translate(shift);
          for (int u = std::max(word_token, from); u <= t; ++u) {
            if (first_box_[size_t(u)] >= int(word_box)) starts_[size_t(u)] += shift;
          }
          cursor_ += shift;
        } else {
          new_line();
        }
      }
      if (i == 0 || !piece.isEmpty() || i == lines.size() - 1) {
        boxes_.push_back({t, QRect(cursor_.x(), cursor_.y(), w, line_height_ - 2), piece});
      }
      cursor_.rx() += w;
      if (!piece.isEmpty()) after_space = piece.back().isSpace();
    }
  }
  content_height_ = cursor_.y() + line_height_ + kMargin;
  updateScrollBars();
  viewport()->update();
}

void TokenTextView::updateScrollBars() {
  verticalScrollBar()->setPageStep(viewport()->height());
  verticalScrollBar()->setSingleStep(line_height_);
  verticalScrollBar()->setRange(0, std::max(0, content_height_ - viewport()->height()));
}

int TokenTextView::tokenAt(const QPoint& pos) const {
  const QPoint p = pos + QPoint(0, verticalScrollBar()->value());
  // Boxes are ordered by line: find the first whose bottom is below p, then scan the line.
  auto it = std::lower_bound(boxes_.begin(), boxes_.end(), p.y(),
                             [](const Box& b, int y) { return b.rect.bottom() < y; });
  for (; it != boxes_.end() && it->rect.top() <= p.y(); ++it) {
    if (it->rect.contains(p)) return it->token;
  }
  return -1;
}

QRect TokenTextView::tokenRect(int token) const {
  if (token < 0 || token >= int(first_box_.size())) return {};
  return boxes_[size_t(first_box_[size_t(token)])].rect.translated(0,
                                                                   -verticalScrollBar()->value());
}

void TokenTextView::ensureVisible(int token) {
  const QRect r = tokenRect(token);
  if (!r.isValid()) return;
  if (r.top() < 0 || r.bottom() > viewport()->height()) {
    verticalScrollBar()->setValue(verticalScrollBar()->value() + r.center().y() -
                                  viewport()->height() / 2);
  }
}

void TokenTextView::paintEvent(QPaintEvent*) {
  QPainter p(viewport());
  const RunData& run = session_->run();
  const int dy = verticalScrollBar()->value();
  const int selected = session_->selection()->token();
  const int layer = session_->selection()->layer();
  const QColor text = palette().color(QPalette::Text);
  QColor prompt_text = text;
  prompt_text.setAlphaF(0.6f);
  const QFont special_font = badge_font(font());
  auto it = std::lower_bound(boxes_.begin(), boxes_.end(), dy,
                             [](const Box& b, int y) { return b.rect.bottom() < y; });
  for (; it != boxes_.end() && it->rect.top() < dy + viewport()->height(); ++it) {
    const QRect r = it->rect.translated(0, -dy);
    const QColor bg = measure_color(run, scale_, measure_, it->token, layer);
    if (bg.isValid()) p.fillRect(r, bg);
    const TokenInfo& tok = run.token(it->token);
    if (tok.special) {
      // A grey badge inside the token's box: the measure's colour still frames it.
      const QRect badge = r.adjusted(kPad + 1, 2, -kPad - 1, -2);
      p.setRenderHint(QPainter::Antialiasing, true);
      p.setPen(Qt::NoPen);
      p.setBrush(kBadgeColor);
      p.drawRoundedRect(badge, 4, 4);
      p.setRenderHint(QPainter::Antialiasing, false);
      p.setFont(special_font);
      p.setPen(Qt::white);
      p.drawText(badge, Qt::AlignCenter, it->text);
      p.setFont(font());
    } else {
      p.setFont(font());
      p.setPen(bg.isValid() ? text_color_on(bg) : (tok.generated ? text : prompt_text));
      p.drawText(r.adjusted(kPad, 0, 0, 0), Qt::AlignLeft | Qt::AlignVCenter, it->text);
    }
    if (it->token == selected) {
      // A highlight frame with a thin line of the base colour inside: visible on any measure
      // colour.
      p.setBrush(Qt::NoBrush);
      p.setPen(QPen(palette().color(QPalette::Highlight), 2));
      p.drawRect(r.adjusted(1, 1, -1, -1));
      p.setPen(QPen(palette().color(QPalette::Base), 1));
      p.drawRect(r.adjusted(2, 2, -3, -3));
    } else if (it->token == hover_) {
      p.setPen(QPen(text, 1));
      p.setBrush(Qt::NoBrush);
      p.drawRect(r.adjusted(0, 0, -1, -1));
    }
  }
  if (run.token_count() == 0) {
    p.setPen(prompt_text);
    p.drawText(viewport()->rect().adjusted(kMargin, kMargin, -kMargin, -kMargin),
               Qt::AlignCenter | Qt::TextWordWrap,
               tr("Generated tokens appear here, coloured by the chosen measure. Hover a token "
                  "for its routing path, click it to select it everywhere."));
  }
}

void TokenTextView::resizeEvent(QResizeEvent* event) {
  QAbstractScrollArea::resizeEvent(event);
  relayout(0);
}

void TokenTextView::mouseMoveEvent(QMouseEvent* event) {
  const int t = tokenAt(event->position().toPoint());
  if (t != hover_) {
    hover_ = t;
    viewport()->update();
  }
}

void TokenTextView::mousePressEvent(QMouseEvent* event) {
  if (event->button() != Qt::LeftButton) return;
  const int t = tokenAt(event->position().toPoint());
  if (t >= 0) session_->selection()->setToken(t);
}

void TokenTextView::keyPressEvent(QKeyEvent* event) {
  Selection* sel = session_->selection();
  const int n = session_->run().token_count();
  if (n == 0) return QAbstractScrollArea::keyPressEvent(event);
  if (event->key() == Qt::Key_Right) {
    sel->setToken(std::min(n - 1, sel->token() + 1));
  } else if (event->key() == Qt::Key_Left) {
    sel->setToken(std::max(0, sel->token() - 1));
  } else {
    QAbstractScrollArea::keyPressEvent(event);
  }
}

bool TokenTextView::viewportEvent(QEvent* event) {
  if (event->type() == QEvent::ToolTip) {
    auto* help = static_cast<QHelpEvent*>(event);
    const int t = tokenAt(help->pos());
    if (t >= 0) {
      QToolTip::showText(help->globalPos(), routingTooltip(t), viewport(), tokenRect(t));
    } else {
      QToolTip::hideText();
    }
    return true;
  }
  if (event->type() == QEvent::Leave && hover_ >= 0) {
    hover_ = -1;
    viewport()->update();
  }
  return QAbstractScrollArea::viewportEvent(event);
}

void TokenTextView::changeEvent(QEvent* event) {
  if (event->type() == QEvent::FontChange) {
    advance_.clear();
    relayout(0);
  }
  if (event->type() == QEvent::LanguageChange) viewport()->update();
  QAbstractScrollArea::changeEvent(event);
}

QString TokenTextView::specialDescription(const TokenInfo& tok) const {
  QString what;
  switch (tok.special_kind) {
    case SpecialKind::kBos:
      what = tr("beginning of sequence (BOS)");
      break;
    case SpecialKind::kEos:
      what = tr("end of sequence (EOS): generation ends here");
      break;
    case SpecialKind::kEog:
      what = tr("end of generation (EOG, e.g. end of turn): generation ends here");
      break;
    case SpecialKind::kUnknown:
      what = tr("the unknown-token placeholder");
      break;
    case SpecialKind::kControl:
    case SpecialKind::kNone:
      what = tr("a control token");
      break;
  }
  return tr("Special token, %1. It makes no text; the grey badge shows its name.").arg(what);
}

ExportTable TokenTextView::exportTable() const {
  const RunData& run = session_->run();
  const int layer = session_->selection()->layer();
  ExportTable t;
  static const char* const kColumn[] = {"none", "miss_share", "stall_ns", "top1_expert",
                                        "entropy_bits"};
  t.header << "token" << "id" << "text" << "generated" << kColumn[int(measure_)];
  for (int i = 0; i < run.token_count(); ++i) {
    const TokenInfo& info = run.token(i);
    const double v = measure_ == TokenMeasure::kNone ? std::nan("")
                                                     : raw_measure(run, measure_, i, layer);
    t.rows << QStringList{QString::number(i), QString::number(info.id), info.text,
                          info.generated ? "1" : "0", std::isnan(v) ? QString() : csv_number(v)};
  }
  return t;
}

QString TokenTextView::routingTooltip(int t) const {
  const RunData& run = session_->run();
  if (t < 0 || t >= run.token_count()) return {};
  const TokenInfo& tok = run.token(t);
  QString html = QStringLiteral("<b>%1</b> ").arg(tr("Token %1").arg(t));
  html += QStringLiteral("«%1» ").arg(displayText(t).toHtmlEscaped());
  html += tr("(id %1, %2)").arg(tok.id).arg(tok.generated ? tr("generated") : tr("prompt"));
  if (tok.special) html += QStringLiteral("<br><i>%1</i>").arg(specialDescription(tok));
  if (!run.routed(t)) {
    return html + "<br>" + tr("Not routed yet: a token is routed when it is fed back.");
  }
  const auto& a = run.analysis();
  const bool outcomes = a && t < a->n_tokens;
  html += QStringLiteral("<br>%1").arg(run.phase(t) == policy::Phase::kPrefill ? tr("prefill")
                                                                               : tr("decode"));
  if (run.stall_ns(t) >= 0) {
    html += QStringLiteral(", ") + tr("stall %1").arg(format_duration_ns(run.stall_ns(t)));
  }
  html += QStringLiteral("<table cellspacing=0 cellpadding=2><tr><th>%1</th><th>%2</th><th>%3</th>")
              .arg(tr("Layer"), tr("Experts (weight)"),
                   run.entropy_from_topk() ? tr("Entropy (top-k)") : tr("Entropy"));
  if (outcomes)
    html += QStringLiteral("<th>%1</th>")
                .arg(tr("Cache (%1)").arg(QString::fromStdString(a->chosen()->spec)));
  html += "</tr>";
  for (int l = 0; l < run.n_layers(); ++l) {
    const auto experts = run.experts(t, l);
    const auto weights = run.weights(t, l);
    QStringList cells, cache;
    for (size_t r = 0; r < experts.size(); ++r) {
      cells << QStringLiteral("<span style='color:%1'>■</span> %2 (%3)")
                   .arg(categorical_color(experts[r].value).name())
                   .arg(experts[r].value)
                   .arg(QLocale().toString(weights[r], 'f', 3));
      if (outcomes) {
        switch (a->outcome[size_t(run.selection_offset(t, l)) + r]) {
          case AccessOutcome::kHit:
            cache << tr("hit");
            break;
          case AccessOutcome::kPrefetchHit:
            cache << tr("prefetched");
            break;
          case AccessOutcome::kMiss:
            cache << QStringLiteral("<b>%1</b>").arg(tr("miss"));
            break;
        }
      }
    }
    html += QStringLiteral("<tr><td>%1</td><td>%2</td><td>%3</td>")
                .arg(l)
                .arg(cells.join(", "))
                .arg(QLocale().toString(run.entropy_bits(t, l), 'f', 2));
    if (outcomes) html += QStringLiteral("<td>%1</td>").arg(cache.join(", "));
    html += "</tr>";
  }
  return html + "</table>";
}

}  // namespace moescope::views
