#include "app/gui/theme.h"

#include <QApplication>
#include <QPainter>
#include <QPalette>
#include <QProxyStyle>
#include <QStyleOption>
#include <QStyle>
#include <QStyleFactory>

namespace moescope::gui {
namespace {

// Fusion outlines an unchecked box in a shade of the window colour, which vanishes on a dark
// base: this draws a light outline over it (checked boxes keep Fusion's look).
class OutlinedIndicators : public QProxyStyle {
 public:
  using QProxyStyle::QProxyStyle;
  void drawPrimitive(PrimitiveElement element, const QStyleOption* option, QPainter* painter,
                     const QWidget* widget) const override {
    QProxyStyle::drawPrimitive(element, option, painter, widget);
    const bool box =
        element == PE_IndicatorCheckBox || element == PE_IndicatorItemViewItemCheck;
    if (!box || !(option->state & State_Off)) return;
    painter->save();
    painter->setRenderHint(QPainter::Antialiasing, false);
    painter->setBrush(Qt::NoBrush);
    painter->setPen(QColor(168, 168, 168));
    painter->drawRect(option->rect.adjusted(1, 1, -2, -2));
    painter->restore();
  }
};

}  // namespace

Theme theme_from_name(const QString& name) {
  if (name == "light") return Theme::kLight;
  if (name == "dark") return Theme::kDark;
  return Theme::kSystem;
}

QString theme_name(Theme theme) {
  switch (theme) {
    case Theme::kLight:
      return "light";
    case Theme::kDark:
      return "dark";
    case Theme::kSystem:
      break;
  }
  return "system";
}

void apply_theme(Theme theme) {
  static const QString system_style = QApplication::style()->name();
  static const QPalette system_palette = QApplication::palette();
  if (theme == Theme::kSystem) {
    QApplication::setStyle(QStyleFactory::create(system_style));
    QApplication::setPalette(system_palette);
    return;
  }
  QStyle* fusion = QStyleFactory::create("Fusion");
  QApplication::setStyle(theme == Theme::kDark ? new OutlinedIndicators(fusion) : fusion);
  QPalette p;
  if (theme == Theme::kLight) {
    p = QApplication::style()->standardPalette();
  } else {
    const QColor window(45, 45, 48), base(30, 30, 32), text(230, 230, 230);
    const QColor disabled(127, 127, 127), highlight(58, 130, 220);
    p.setColor(QPalette::Window, window);
    p.setColor(QPalette::WindowText, text);
    p.setColor(QPalette::Base, base);
    p.setColor(QPalette::AlternateBase, window);
    p.setColor(QPalette::ToolTipBase, QColor(60, 60, 64));
    p.setColor(QPalette::ToolTipText, text);
    p.setColor(QPalette::PlaceholderText, disabled);
    p.setColor(QPalette::Text, text);
    p.setColor(QPalette::Button, window);
    p.setColor(QPalette::ButtonText, text);
    p.setColor(QPalette::BrightText, Qt::red);
    p.setColor(QPalette::Link, highlight.lighter(130));
    p.setColor(QPalette::Highlight, highlight);
    p.setColor(QPalette::HighlightedText, Qt::white);
    p.setColor(QPalette::Mid, QColor(70, 70, 74));
    p.setColor(QPalette::Dark, QColor(25, 25, 27));
    p.setColor(QPalette::Light, QColor(80, 80, 84));
    for (QPalette::ColorRole role : {QPalette::WindowText, QPalette::Text, QPalette::ButtonText}) {
      p.setColor(QPalette::Disabled, role, disabled);
    }
  }
  QApplication::setPalette(p);
}

}  // namespace moescope::gui
