#include "views/common/wheel_guard.h"

#include <QAbstractScrollArea>
#include <QAbstractSlider>
#include <QAbstractSpinBox>
#include <QComboBox>
#include <QCoreApplication>
#include <QEvent>
#include <QScrollBar>
#include <QWheelEvent>
#include <QWidget>

namespace moescope::views {
namespace {

bool is_field(const QWidget* w) {
  // A scroll bar is a slider too, but the wheel is what it is for.
  return (qobject_cast<const QAbstractSpinBox*>(w) || qobject_cast<const QComboBox*>(w) ||
          qobject_cast<const QAbstractSlider*>(w)) &&
         !qobject_cast<const QScrollBar*>(w);
}

class WheelGuard : public QObject {
 public:
  using QObject::QObject;

  bool eventFilter(QObject* watched, QEvent* event) override {
    if (event->type() != QEvent::Wheel) return false;
    auto* field = qobject_cast<QWidget*>(watched);
    if (!field || field->hasFocus()) return false;
    // Hand the wheel to the nearest scroll area around the field, which scrolls; the field's
    // value stays as it is.
    for (QWidget* w = field->parentWidget(); w; w = w->parentWidget()) {
      if (auto* area = qobject_cast<QAbstractScrollArea*>(w)) {
        QCoreApplication::sendEvent(area->viewport(), event);
        break;
      }
    }
    return true;
  }
};

WheelGuard* guard() {
  static WheelGuard* g = new WheelGuard(QCoreApplication::instance());
  return g;
}

void install_one(QWidget* w) {
  if (!is_field(w)) return;
  // Strong focus: a wheel turn does not give the field the focus (Qt::WheelFocus would).
  if (w->focusPolicy() == Qt::WheelFocus) w->setFocusPolicy(Qt::StrongFocus);
  w->removeEventFilter(guard());
  w->installEventFilter(guard());
}

}  // namespace

void install_wheel_guard(QWidget* root) {
  install_one(root);
  for (QWidget* w : root->findChildren<QWidget*>()) install_one(w);
}

}  // namespace moescope::views
