#pragma once
// Runs a function on a short-lived thread and hands its result to a callback on the GUI thread
// (dropped when `context` is gone by then). For one-off work such as reading a trace, so the GUI
// never waits for the disk.
#include <QCoreApplication>
#include <QMetaObject>
#include <QObject>
#include <QPointer>
#include <QThread>
#include <QWidget>

#include <functional>
#include <memory>
#include <utility>

namespace moescope::views {

template <typename T>
void run_in_background(QObject* context, std::function<T()> work, std::function<void(T)> done) {
  QPointer<QObject> guard(context);
  QThread* thread = QThread::create([guard, work = std::move(work), done = std::move(done)] {
    auto result = std::make_shared<T>(work());
    // Delivered through the application object, which outlives every view; the guard is read
    // on the GUI thread only.
    QMetaObject::invokeMethod(
        QCoreApplication::instance(),
        [guard, done, result] {
          if (guard) done(std::move(*result));
        },
        Qt::QueuedConnection);
  });
  QObject::connect(thread, &QThread::finished, thread, &QObject::deleteLater);
  thread->start();
}

// Whether a panel's background work can wait until the panel is shown: it sits in a window (a
// dock of the main window) but cannot be seen (a tab behind another, a closed dock), so it would
// only take CPU from the views on screen. A stand-alone panel never waits. Such a panel
// schedules its work again from showEvent.
inline bool wait_until_shown(const QWidget* panel) {
  return panel->window() != panel && !panel->isVisible();
}

}  // namespace moescope::views
