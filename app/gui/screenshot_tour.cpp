#include "app/gui/screenshot_tour.h"

#include <QApplication>
#include <QDir>
#include <QDockWidget>
#include <QPixmap>
#include <QTabWidget>
#include <QTimer>

#include <cstdio>

#include "app/gui/main_window.h"
#include "views/session/session_controller.h"

namespace moescope::gui {
namespace {
constexpr int kTimeoutMs = 180000;
}

ScreenshotTour::ScreenshotTour(MainWindow* window, QString dir, QObject* parent)
    : QObject(parent), window_(window), dir_(std::move(dir)) {}

void ScreenshotTour::start() {
  QDir().mkpath(dir_);
  window_->resize(1600, 1000);
  views::SessionController* s = window_->session();
  connect(s, &views::SessionController::modelLoaded, this, &ScreenshotTour::generate);
  connect(s, &views::SessionController::modelFailed, this, [this] { finish(1); });
  connect(s, &views::SessionController::runFailed, this, [this] { finish(1); });
  connect(s, &views::SessionController::runFinished, this, [this] {
    // The final analysis arrives after the run ends; give the views a moment to paint.
    QTimer::singleShot(1500, this, &ScreenshotTour::capture);
  });
  QTimer::singleShot(kTimeoutMs, this, [this] {
    std::fprintf(stderr, "moescope: screenshots timed out\n");
    finish(1);
  });
  if (s->model() && !s->busy()) generate();
}

void ScreenshotTour::generate() {
  if (started_) return;
  started_ = true;
  window_->session()->generate();
}

bool ScreenshotTour::save(QWidget* widget, const QString& name) {
  const QString path = QDir(dir_).filePath(name + ".png");
  if (!widget->grab().save(path)) {
    std::fprintf(stderr, "moescope: cannot write %s\n", path.toUtf8().constData());
    return false;
  }
  std::printf("%s\n", path.toUtf8().constData());
  ++saved_;
  return true;
}

void ScreenshotTour::capture() {
  bool ok = save(window_, "main-window");
  for (QDockWidget* dock : window_->docks()) {
    dock->show();
    dock->raise();
    QApplication::processEvents();
    ok = save(dock->widget(), dock->objectName().remove("Dock")) && ok;
    // The policy comparison's other tabs too.
    if (auto* tabs = dock->widget()->findChild<QTabWidget*>();
        tabs && dock->objectName() == "policyDock") {
      const QStringList names = {"", "policy-bytes", "policy-stall", "policy-table"};
      for (int i = 1; i < tabs->count() && i < names.size(); ++i) {
        tabs->setCurrentIndex(i);
        QApplication::processEvents();
        ok = save(dock->widget(), names[i]) && ok;
      }
      tabs->setCurrentIndex(0);
    }
  }
  // Back to the first tabs of the tabbed docks for the translated shots.
  for (QDockWidget* dock : window_->docks()) {
    if (dock->objectName() == "layerExpertDock" || dock->objectName() == "policyDock")
      dock->raise();
  }
  const QString language = window_->language();
  window_->setLanguage("de");
  QApplication::processEvents();
  ok = save(window_, "main-window-de") && ok;
  window_->setLanguage("zh_CN");
  QApplication::processEvents();
  ok = save(window_, "main-window-zh_CN") && ok;
  window_->setLanguage(language);
  finish(ok ? 0 : 1);
}

void ScreenshotTour::finish(int code) {
  std::fflush(stdout);
  QCoreApplication::exit(code);
}

}  // namespace moescope::gui
