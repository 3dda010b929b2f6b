#pragma once
// --screenshots DIR: waits for the model, generates once, selects a token, then saves the whole
// window, the token's routing tooltip and pinned details, the export menus, every dock, and the
// window in the dark theme, in German and in Chinese as PNG
// files into DIR, and quits. tools/screenshots.sh runs it
// under Xvfb for docs/screenshots/.
#include <QObject>
#include <QString>
#include <QTemporaryDir>

class QPixmap;
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
  void captureTraces();
  bool save(QWidget* widget, const QString& name);
  bool savePixmap(const QPixmap& pixmap, const QString& name);
  bool saveTooltip(int token, const QString& name);
  bool savePrefetchers();
  // The right-click export menu over a view, File → Export, and the window in the dark theme.
  bool saveMenus();
  bool saveDark();
  int showcaseToken() const;
  int specialToken() const;
  void finish(int code);

  MainWindow* window_;
  QString dir_;
  QTemporaryDir trace_dir_;
  bool started_ = false;
  int runs_ = 0;
  bool ok_ = true;
  int saved_ = 0;
};

}  // namespace moescope::gui
