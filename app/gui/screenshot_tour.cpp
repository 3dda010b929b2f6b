#include "app/gui/screenshot_tour.h"

#include <QAbstractItemView>
#include <QApplication>
#include <QComboBox>
#include <QDir>
#include <QDockWidget>
#include <QEventLoop>
#include <QItemSelectionModel>
#include <QLineEdit>
#include <QMenu>
#include <QPixmap>
#include <QScreen>
#include <QScrollArea>
#include <QSettings>
#include <QTabWidget>
#include <QTableView>
#include <QTimer>
#include <QToolTip>

#include <algorithm>
#include <cstdio>
#include <memory>

#include "app/gui/main_window.h"
#include "app/gui/theme.h"
#include "views/common/view_export.h"
#include "views/heatmap/heatmap_view.h"
#include "views/heatmap/layer_expert_panel.h"
#include "views/session/session_controller.h"
#include "views/suitability/suitability_panel.h"
#include "views/text/text_panel.h"
#include "views/text/token_text_view.h"
#include "views/traces/run_list_model.h"
#include "views/traces/trace_panel.h"

namespace moescope::gui {
namespace {
constexpr int kTimeoutMs = 180000;

void settle() {
  // Language and layout changes post events (LayoutRequest, LanguageChange): deliver them all.
  for (int i = 0; i < 3; ++i) {
    QApplication::sendPostedEvents();
    QApplication::processEvents();
  }
}
}  // namespace

ScreenshotTour::ScreenshotTour(MainWindow* window, QString dir, QObject* parent)
    : QObject(parent), window_(window), dir_(std::move(dir)) {}

void ScreenshotTour::start() {
  QDir().mkpath(dir_);
  window_->resize(1600, 1000);
  settle();
  window_->applyDefaultLayout();
  views::SessionController* s = window_->session();
  connect(s, &views::SessionController::modelLoaded, this, &ScreenshotTour::generate);
  connect(s, &views::SessionController::modelFailed, this, [this] { finish(1); });
  connect(s, &views::SessionController::runFailed, this, [this] { finish(1); });
  connect(s, &views::SessionController::runFinished, this, [this] {
    if (++runs_ < 2) {
      // The run on show uses the default seed; the one before it (another seed) gives the
      // Traces view a second run to compare.
      views::RunSettings settings = window_->session()->settings();
      settings.generation.sampling.seed -= 1;
      window_->session()->setSettings(settings);
      QTimer::singleShot(0, window_->session(), &views::SessionController::generate);
      return;
    }
    // Recording off again (the settings shot shows no temporary file); the final analysis
    // arrives after the run ends: give the views a moment to paint.
    views::RunSettings settings = window_->session()->settings();
    settings.trace_path.clear();
    window_->session()->setSettings(settings);
    if (auto* path = window_->findChild<QLineEdit*>("recordPath")) path->clear();
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
  // Loads paced to an NVMe link, so that the modelled stall has something to show; the runs
  // recorded into a trace for the Traces view.
  views::RunSettings settings = window_->session()->settings();
  settings.cache.link = QStringLiteral("nvme");
  settings.trace_path = trace_dir_.filePath("tour.sqlite");
  settings.generation.sampling.seed += 1;
  window_->session()->setSettings(settings);
  window_->session()->generate();
}

bool ScreenshotTour::save(QWidget* widget, const QString& name) {
  return savePixmap(widget->grab(), name);
}

bool ScreenshotTour::savePixmap(const QPixmap& pixmap, const QString& name) {
  const QString path = QDir(dir_).filePath(name + ".png");
  if (!pixmap.save(path)) {
    std::fprintf(stderr, "moescope: cannot write %s\n", path.toUtf8().constData());
    return false;
  }
  std::printf("%s\n", path.toUtf8().constData());
  ++saved_;
  return true;
}

int ScreenshotTour::showcaseToken() const {
  // A generated token a few tokens in, near the left of its line so that its tooltip stays over
  // the text: its routing path shows in every view.
  const views::RunData& run = window_->session()->run();
  const views::TokenTextView* view = window_->textPanel()->textView();
  for (int t = run.prompt_count() + 6; t < run.routed_count(); ++t) {
    const QRect r = view->tokenRect(t);
    if (r.isValid() && r.x() < view->viewport()->width() / 3 && !run.token(t).special) return t;
  }
  return std::min(run.prompt_count() + 6, run.routed_count() - 1);
}

int ScreenshotTour::specialToken() const {
  // A control token the model generated (a BOS in mid-text, an end of generation), or -1.
  const views::RunData& run = window_->session()->run();
  for (int t = run.prompt_count(); t < run.token_count(); ++t) {
    if (run.token(t).special) return t;
  }
  return -1;
}

bool ScreenshotTour::saveTooltip(int t, const QString& name) {
  // The token's routing path as the text view shows it on hover: a tooltip is a window of its
  // own, so this one is taken from the screen.
  views::TokenTextView* view = window_->textPanel()->textView();
  const QRect r = view->tokenRect(t);
  if (!r.isValid()) return false;
  const QPoint at = view->viewport()->mapToGlobal(r.bottomLeft() + QPoint(2, 2));
  QToolTip::showText(at, view->routingTooltip(t), view->viewport(), r);
  settle();
  QWidget* tip = nullptr;
  for (QWidget* w : QApplication::topLevelWidgets()) {
    if (w->isVisible() && w->inherits("QTipLabel")) tip = w;
  }
  if (!tip) return false;
  const QRect area = QRect(view->viewport()->mapToGlobal(r.topLeft()) - QPoint(12, 12),
                           tip->geometry().bottomRight() + QPoint(12, 12))
                         .united(tip->geometry().adjusted(-12, -12, 12, 12));
  QScreen* screen = window_->screen();
  const bool ok =
      savePixmap(screen->grabWindow(0, area.x(), area.y(), area.width(), area.height()), name);
  QToolTip::hideText();
  settle();
  return ok;
}

bool ScreenshotTour::savePrefetchers() {
  // The prefetcher list opened: the live ones, and those that need a fitted trace greyed out.
  auto* combo = window_->findChild<QComboBox*>("prefetcher");
  if (!combo) return false;
  combo->showPopup();
  settle();
  QWidget* popup = combo->view()->window();
  const bool ok = popup != window_ && save(popup, "settings-prefetchers");
  combo->hidePopup();
  settle();
  return ok;
}

bool ScreenshotTour::saveMenus() {
  bool ok = true;
  // A view's own menu, opened over it as a right-click opens it.
  views::HeatmapView* view = window_->layerExpertPanel()->view();
  if (views::ViewExport* e = views::ViewExport::of(view)) {
    std::unique_ptr<QMenu> menu(e->createMenu(nullptr));
    const QPoint at = view->mapToGlobal(QPoint(view->width() / 3, view->height() / 3));
    menu->popup(at);
    settle();
    const QRect area = QRect(view->mapToGlobal(QPoint(0, 0)), view->size())
                           .united(menu->geometry().adjusted(-8, -8, 8, 8));
    ok = savePixmap(window_->screen()->grabWindow(0, area.x(), area.y(), area.width(),
                                                  area.height()),
                    "export-menu") &&
         ok;
    menu->hide();
    settle();
  }
  QMenu* file = window_->exportMenu();
  file->popup(window_->mapToGlobal(QPoint(40, 40)));
  settle();
  ok = save(file, "file-export") && ok;
  file->hide();
  settle();
  return ok;
}

bool ScreenshotTour::saveDark() {
  apply_theme(Theme::kDark);
  settle();
  const bool ok = save(window_, "main-window-dark");
  apply_theme(theme_from_name(QSettings().value("theme", "system").toString()));
  settle();
  return ok;
}

void ScreenshotTour::capture() {
  // The Suitability panel computes after the final analysis: wait until it covers the whole run.
  if (const auto* panel = window_->findChild<views::SuitabilityPanel*>()) {
    const auto& s = panel->suitability();
    if (!s || s->tokens != window_->session()->run().routed_count()) {
      QTimer::singleShot(200, this, &ScreenshotTour::capture);
      return;
    }
  }
  window_->session()->selection()->setToken(showcaseToken());
  settle();
  bool ok = save(window_, "main-window");
  ok = save(window_->textPanel(), "token-details") && ok;
  ok = saveMenus() && ok;
  ok = saveDark() && ok;
  ok = saveTooltip(showcaseToken(), "token-tooltip") && ok;
  if (const int special = specialToken(); special >= 0) {
    ok = saveTooltip(special, "token-tooltip-special") && ok;
  }
  for (QDockWidget* dock : window_->docks()) {
    if (dock->objectName() == "tracesDock") continue;  // last: it reopens the recorded runs
    dock->show();
    dock->raise();
    settle();
    QWidget* content = dock->widget();
    // The settings scroll: the whole form, not the part the dock shows.
    if (auto* scroll = content->findChild<QScrollArea*>(); scroll && scroll->widget()) {
      content = scroll->widget();
      content->resize(scroll->viewport()->width(), content->sizeHint().height());
    }
    ok = save(content, dock->objectName().remove("Dock")) && ok;
    if (dock->objectName() == "settingsDock") ok = savePrefetchers() && ok;
    if (content != dock->widget()) dock->widget()->updateGeometry();
    // The policy comparison's other tabs too.
    if (auto* tabs = dock->widget()->findChild<QTabWidget*>();
        tabs && dock->objectName() == "policyDock") {
      const QStringList names = {"", "policy-bytes", "policy-stall", "policy-table"};
      for (int i = 1; i < tabs->count() && i < names.size(); ++i) {
        tabs->setCurrentIndex(i);
        settle();
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
  settle();
  const QString language = window_->language();
  for (const QString& lang : {QStringLiteral("de"), QStringLiteral("zh_CN")}) {
    window_->setLanguage(lang);
    settle();
    // The charts lay out their graphics scenes through queued updates: give them a moment.
    QEventLoop wait;
    QTimer::singleShot(500, &wait, &QEventLoop::quit);
    wait.exec();
    settle();
    ok = save(window_, "main-window-" + lang) && ok;
  }
  window_->setLanguage(language);
  settle();
  ok_ = ok;
  captureTraces();
}

void ScreenshotTour::captureTraces() {
  // The two recorded runs, listed, the newest reopened in every view, and compared.
  views::TracePanel* panel = window_->tracePanel();
  connect(panel, &views::TracePanel::runsListed, this, [this, panel] {
    connect(panel, &views::TracePanel::comparisonReady, this, [this, panel] {
      panel->runsView()->selectRow(0);
      panel->runsView()->selectionModel()->select(
          panel->runsModel()->index(1, 0), QItemSelectionModel::Select | QItemSelectionModel::Rows);
      QTimer::singleShot(1000, this, [this] {
        settle();
        for (QDockWidget* dock : window_->docks()) {
          if (dock->objectName() != "tracesDock") continue;
          dock->show();
          dock->raise();
          settle();
          ok_ = save(dock->widget(), "traces") && ok_;
        }
        finish(ok_ ? 0 : 1);
      });
    });
    panel->compareRuns(0, 1);
  });
  window_->openTrace(trace_dir_.filePath("tour.sqlite"));
}

void ScreenshotTour::finish(int code) {
  std::fflush(stdout);
  QCoreApplication::exit(code);
}

}  // namespace moescope::gui
