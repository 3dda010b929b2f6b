#pragma once
// --screenshots DIR: waits for the model, generates once, then saves the whole window, every
// dock, and the window in German as PNG files into DIR, and quits. tools/screenshots.sh runs it
// under Xvfb for docs/screenshots/.
#include <QObject>
#include <QString>

class QWidget;

namespace moescope::gui {

class MainWindow;

class ScreenshotTour : public QObject {
  Q_OBJECT
 public:
  ScreenshotTour(MainWindow* window, QString dir, QObject* parent = nullptr);
  void start();

 private:
  void generate();
  void capture();
  bool save(QWidget* widget, const QString& name);
  void finish(int code);

  MainWindow* window_;
  QString dir_;
  bool started_ = false;
  int saved_ = 0;
};

}  // namespace moescope::gui
