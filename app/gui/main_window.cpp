#include "app/gui/main_window.h"

#include <QAction>
#include <QActionGroup>
#include <QApplication>
#include <QCloseEvent>
#include <QDockWidget>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileInfo>
#include <QHash>
#include <QKeySequence>
#include <QLocale>
#include <QMenu>
#include <QMenuBar>
#include <QFileDialog>
#include <QGuiApplication>
#include <QMessageBox>
#include <QProgressBar>
#include <QScreen>
#include <QSettings>
#include <QSplitter>
#include <QStatusBar>
#include <QTimer>

#include "app/cli/default_model.h"
#include "app/gui/i18n.h"
#include "app/gui/theme.h"
#include "app/gui/trace_export.h"
#include "engine/common/error.h"
#include "views/affinity/affinity_panel.h"
#include "views/batch/batch_controller.h"
#include "views/batch/step_timeline_panel.h"
#include "views/batch/workload_panel.h"
#include "views/charts/capacity_curves_panel.h"
#include "views/charts/policy_comparison_panel.h"
#include "views/common/wheel_guard.h"
#include "views/devices/devices_panel.h"
#include "views/heatmap/layer_expert_panel.h"
#include "views/heatmap/token_expert_panel.h"
#include "views/model/model_panel.h"
#include "views/prompt/prompt_panel.h"
#include "views/session/session_controller.h"
#include "views/settings/settings_io.h"
#include "views/settings/settings_panel.h"
#include "views/status/run_status.h"
#include "views/suitability/suitability_panel.h"
#include "views/text/text_panel.h"
#include "views/traces/trace_panel.h"

namespace moescope::gui {
namespace {

views::RunSettings default_run_settings() {
  views::RunSettings s;
  s.prompt = QStringLiteral("It is a truth universally acknowledged, that");
  s.generation.max_new_tokens = 128;
  return s;
}

QString stop_reason_text(StopReason reason) {
  switch (reason) {
    case StopReason::kLength:
      return MainWindow::tr("length limit reached");
    case StopReason::kEndOfGeneration:
      return MainWindow::tr("end of generation");
    case StopReason::kStopString:
      return MainWindow::tr("stop string");
    case StopReason::kContextFull:
      return MainWindow::tr("context full");
    case StopReason::kCancelled:
      return MainWindow::tr("stopped");
  }
  return {};
}

QString run_summary(const GenerationStats& st) {
  return MainWindow::tr("Run finished: %1 tokens generated in %2 s (%3)")
      .arg(st.n_generated)
      .arg(QLocale().toString(st.total_ms / 1000.0, 'f', 2))
      .arg(stop_reason_text(st.stop_reason));
}

}  // namespace

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
  setObjectName("MainWindow");
  setAcceptDrops(true);
  setWindowIcon(QIcon(":/moescope/moescope-256.png"));
  session_ = new views::SessionController(this);
  {
    QSettings settings;
    session_->setSettings(views::load_run_settings(settings, default_run_settings()));
  }

  prompt_panel_ = new views::PromptPanel(session_, this);
  text_panel_ = new views::TextPanel(session_, this);
  auto* splitter = new QSplitter(Qt::Vertical, this);
  splitter->setObjectName("centralSplitter");
  splitter->addWidget(prompt_panel_);
  splitter->addWidget(text_panel_);
  splitter->setStretchFactor(0, 1);
  splitter->setStretchFactor(1, 4);
  setCentralWidget(splitter);

  model_panel_ = new views::ModelPanel(session_, this);
  settings_panel_ = new views::SettingsPanel(session_, this);
  addDock(model_panel_, "modelDock", Qt::LeftDockWidgetArea);
  addDock(settings_panel_, "settingsDock", Qt::LeftDockWidgetArea);
  layer_expert_ = new views::LayerExpertPanel(session_, this);
  token_expert_ = new views::TokenExpertPanel(session_, this);
  affinity_ = new views::AffinityPanel(session_, this);
  policies_ = new views::PolicyComparisonPanel(session_, this);
  curves_ = new views::CapacityCurvesPanel(session_, this);
  QDockWidget* layer_dock = addDock(layer_expert_, "layerExpertDock", Qt::RightDockWidgetArea);
  QDockWidget* token_dock = addDock(token_expert_, "tokenExpertDock", Qt::RightDockWidgetArea);
  QDockWidget* affinity_dock = addDock(affinity_, "affinityDock", Qt::RightDockWidgetArea);
  QDockWidget* policy_dock = addDock(policies_, "policyDock", Qt::BottomDockWidgetArea);
  QDockWidget* curves_dock = addDock(curves_, "curvesDock", Qt::BottomDockWidgetArea);
  traces_ = new views::TracePanel(session_, this);
  QDockWidget* traces_dock = addDock(traces_, "tracesDock", Qt::BottomDockWidgetArea);
  tabifyDockWidget(layer_dock, token_dock);
  tabifyDockWidget(policy_dock, curves_dock);
  tabifyDockWidget(curves_dock, traces_dock);
  QDockWidget* suitability_dock = addDock(new views::SuitabilityPanel(session_, this),
                                          "suitabilityDock", Qt::BottomDockWidgetArea);
  tabifyDockWidget(traces_dock, suitability_dock);
  tabifyDockWidget(suitability_dock, addDock(new views::DevicesPanel(session_, this),
                                             "devicesDock", Qt::BottomDockWidgetArea));
  // The workload mode: its form and requests beside the settings, its steps with the analyses.
  batch_ = new views::BatchController(session_, this);
  workload_ = new views::WorkloadPanel(session_, batch_, this);
  steps_ = new views::StepTimelinePanel(batch_, this);
  QDockWidget* workload_dock = addDock(workload_, "workloadDock", Qt::LeftDockWidgetArea);
  tabifyDockWidget(findChild<QDockWidget*>("settingsDock"), workload_dock);
  tabifyDockWidget(findChild<QDockWidget*>("devicesDock"),
                   addDock(steps_, "stepsDock", Qt::BottomDockWidgetArea));
  findChild<QDockWidget*>("settingsDock")->raise();
  layer_dock->raise();
  policy_dock->raise();
  (void)affinity_dock;

  createStatusBar();
  createMenus();
  default_state_ = saveState();
  restoreSettings();
  retranslate();
  views::install_wheel_guard(this);
}

// The run's figures, a busy indicator, and the messages: where the user looks for what happened.
void MainWindow::createStatusBar() {
  run_status_ = new views::RunStatus(session_, this);
  busy_ = new QProgressBar(this);
  busy_->setObjectName("busyIndicator");
  busy_->setRange(0, 0);  // busy: reading and analysing have no known length
  busy_->setMaximumWidth(120);
  busy_->hide();
  statusBar()->addPermanentWidget(busy_);
  statusBar()->addPermanentWidget(run_status_);
  connect(session_, &views::SessionController::traceLoading, this, [this](const QString& path) {
    busy_->show();
    showStatus([path] { return tr("Reading %1 …").arg(QFileInfo(path).fileName()); }, 0);
  });
  connect(session_, &views::SessionController::analysisUpdated, this, [this] {
    const auto& a = session_->run().analysis();
    if (a && a->complete() && a->n_tokens >= session_->run().routed_count()) busy_->hide();
  });
  connect(session_, &views::SessionController::modelLoaded, this, &MainWindow::updateTitle);
  connect(session_, &views::SessionController::runStarted, this, &MainWindow::updateTitle);
  connect(session_, &views::SessionController::modelFailed, this,
          [this](const QString& path, const QString& error) {
            showStatus(
                [path, error] {
                  return tr("Could not open %1: %2").arg(QFileInfo(path).fileName(), error);
                },
                10000);
          });
  connect(session_, &views::SessionController::runFailed, this, [this](const QString& error) {
    showStatus([error] { return tr("The run failed: %1").arg(error); }, 10000);
  });
  connect(session_, &views::SessionController::traceFailed, this,
          [this](const QString& path, const QString& error) {
            busy_->hide();
            raiseDock("tracesDock");
            showStatus(
                [path, error] {
                  return tr("Could not open %1: %2").arg(QFileInfo(path).fileName(), error);
                },
                10000);
          });
  connect(session_, &views::SessionController::modelLoaded, this, [this] {
    const QString name = session_->model()->display_name();
    showStatus([name] { return tr("Model ready: %1").arg(name); }, 5000);
  });
  connect(session_, &views::SessionController::runFinished, this, [this] {
    // (A trace's run follows with traceOpened, whose message replaces this one.)
    if (session_->last_stats().n_generated > 0) {
      const GenerationStats st = session_->last_stats();
      showStatus([st] { return run_summary(st); }, 0);
    }
  });
  connect(session_, &views::SessionController::stateChanged, this,
          [this](views::SessionController::State state) {
            if (state != views::SessionController::State::kGenerating) return;
            status_text_ = nullptr;
            statusBar()->clearMessage();
          });
  connect(session_, &views::SessionController::traceOpened, this,
          [this](const QString& path, qint64 run) {
            updateTitle();
            if (!session_->run().analysis() && session_->run().routed_count() == 0) busy_->hide();
            const QString other =
                session_->trace_from_other_model() ? session_->trace_model() : QString();
            showStatus(
                [path, run, other] {
                  QString text = tr("Showing run %1 of %2").arg(run).arg(QFileInfo(path).fileName());
                  if (!other.isEmpty()) {
                    text += " — " + tr("recorded with %1, not the loaded model").arg(other);
                  }
                  return text;
                },
                0);
          });
  // However a trace is opened: the Traces panel comes forward, and a busy indicator shows until
  // the run is read and analysed.
  connect(traces_, &views::TracePanel::opening, this, [this](const QString& path) {
    raiseDock("tracesDock");
    busy_->show();
    showStatus([path] { return tr("Reading %1 …").arg(QFileInfo(path).fileName()); }, 0);
  });
  connect(traces_, &views::TracePanel::openFailed, this,
          [this](const QString& path, const QString& error) {
            busy_->hide();
            showStatus(
                [path, error] {
                  return tr("Could not open %1: %2").arg(QFileInfo(path).fileName(), error);
                },
                10000);
          });
  // A batched trace's requests and steps show in the workload views too.
  connect(session_, &views::SessionController::traceOpened, batch_,
          &views::BatchController::openTrace);
  connect(batch_, &views::BatchController::runFinished, this, [this] {
    const int n = batch_->runs().empty() ? 0 : int(batch_->runs().front().requests.size());
    showStatus([n] { return tr("Workload finished: %1 requests").arg(n); }, 0);
  });
  connect(batch_, &views::BatchController::runFailed, this, [this](const QString& error) {
    showStatus([error] { return tr("The workload failed: %1").arg(error); }, 10000);
  });
  connect(model_panel_, &views::ModelPanel::recentFilesChanged, this,
          [](const QStringList& files) { QSettings().setValue("recentModels", files); });

}

void MainWindow::updateTitle() {
  QStringList parts;
  if (const views::LoadedModel* m = session_->model()) parts << m->display_name();
  if (!session_->trace_path().isEmpty()) {
    parts << tr("%1, run %2")
                 .arg(QFileInfo(session_->trace_path()).fileName())
                 .arg(session_->trace_run());
  }
  parts << tr("MoEScope — mixture-of-experts profiler");
  setWindowTitle(parts.join(QStringLiteral(" — ")));
}

bool MainWindow::exportTrace(const QString& kind, const QString& path, QString* error) {
  QString message;
  if (session_->trace_path().isEmpty()) {
    message = tr("Nothing to export: open a trace, or record the run (Settings → Recording) and "
                 "open it");
  } else {
    try {
      write_trace_export(session_->trace_path(), session_->trace_run(), kind, path);
      showStatus([path] { return tr("Exported %1").arg(QFileInfo(path).fileName()); }, 8000);
      return true;
    } catch (const std::exception& e) {
      message = QString::fromUtf8(e.what());
    }
  }
  showStatus([message] { return tr("Export failed: %1").arg(message); }, 15000);
  if (error) *error = message;
  return false;
}

void MainWindow::chooseExport(const QString& kind) {
  if (session_->trace_path().isEmpty()) {
    QMessageBox::information(this, tr("Export"),
                             tr("Export writes the run on show from its trace. Open a trace "
                                "(File → Open trace), or record runs (Settings → Recording) and "
                                "open the trace."));
    return;
  }
  QString suffix = ".csv";
  for (const TraceExportKind& k : trace_export_kinds()) {
    if (k.id == kind) suffix = k.suffix;
  }
  const QString base = QFileInfo(session_->trace_path()).completeBaseName() +
                       QStringLiteral("-run%1").arg(session_->trace_run());
  const QString name = kind.startsWith("csv:") ? base + "-" + kind.mid(4) : base;
  const QString path = QFileDialog::getSaveFileName(this, tr("Export"), name + suffix);
  if (path.isEmpty()) return;
  QString error;
  QApplication::setOverrideCursor(Qt::WaitCursor);
  const bool ok = exportTrace(kind, path, &error);
  QApplication::restoreOverrideCursor();
  if (!ok) QMessageBox::warning(this, tr("Export failed"), error);
}

void MainWindow::resetLayout() {
  restoreState(default_state_);
  for (QDockWidget* dock : docks_) {
    dock->setFloating(false);
    dock->show();
  }
  for (QDockWidget* dock : docks_) {
    const QString name = dock->objectName();
    if (name == "layerExpertDock" || name == "policyDock") dock->raise();
  }
  applyDefaultLayout();
}

void MainWindow::rescueFloatingDocks() {
  for (QDockWidget* dock : docks_) {
    if (!dock->isFloating()) continue;
    const QRect g = dock->frameGeometry();
    bool on_screen = false;
    for (QScreen* screen : QGuiApplication::screens()) {
      on_screen = on_screen || screen->availableGeometry().intersected(g).width() >= 40;
    }
    if (!on_screen || g.isEmpty()) dock->setFloating(false);
  }
}

MainWindow::~MainWindow() = default;

QDockWidget* MainWindow::addDock(QWidget* widget, const QString& object_name,
                                 Qt::DockWidgetArea area) {
  auto* dock = new QDockWidget(this);
  dock->setObjectName(object_name);
  dock->setWidget(widget);
  addDockWidget(area, dock);
  docks_.append(dock);
  return dock;
}

QList<QDockWidget*> MainWindow::docks() const {
  return docks_;
}

void MainWindow::createMenus() {
  file_menu_ = menuBar()->addMenu(QString());
  open_model_ = file_menu_->addAction(QString(), model_panel_, &views::ModelPanel::chooseModel);
  open_model_->setShortcut(QKeySequence::Open);
  open_trace_ = file_menu_->addAction(QString(), traces_, &views::TracePanel::chooseTrace);
  open_trace_->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_O));
  export_menu_ = file_menu_->addMenu(QString());
  export_menu_->setObjectName("exportMenu");
  for (const TraceExportKind& kind : trace_export_kinds()) {
    QAction* a = export_menu_->addAction(QString(), this, [this, id = kind.id] { chooseExport(id); });
    a->setData(kind.id);
    if (kind.id == "html") export_menu_->insertSeparator(a);
  }
  file_menu_->addSeparator();
  quit_ = file_menu_->addAction(QString(), this, &QWidget::close);
  quit_->setShortcut(QKeySequence::Quit);

  run_menu_ = menuBar()->addMenu(QString());
  generate_ = run_menu_->addAction(QString(), prompt_panel_, &views::PromptPanel::generate);
  generate_->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Return));
  stop_ = run_menu_->addAction(QString(), session_, &views::SessionController::stop);
  stop_->setShortcut(QKeySequence(Qt::Key_Escape));
  auto update_actions = [this] {
    generate_->setEnabled(session_->state() == views::SessionController::State::kReady);
    stop_->setEnabled(session_->state() == views::SessionController::State::kGenerating);
  };
  connect(session_, &views::SessionController::stateChanged, this, update_actions);
  update_actions();

  view_menu_ = menuBar()->addMenu(QString());
  for (QDockWidget* dock : docks_) view_menu_->addAction(dock->toggleViewAction());
  view_menu_->addSeparator();
  reset_layout_ = view_menu_->addAction(QString(), this, &MainWindow::resetLayout);
  view_menu_->addSeparator();
  theme_menu_ = view_menu_->addMenu(QString());
  auto* themes = new QActionGroup(this);
  theme_system_ = theme_menu_->addAction(QString());
  theme_light_ = theme_menu_->addAction(QString());
  theme_dark_ = theme_menu_->addAction(QString());
  const QList<QPair<QAction*, Theme>> theme_actions = {
      {theme_system_, Theme::kSystem}, {theme_light_, Theme::kLight}, {theme_dark_, Theme::kDark}};
  for (const auto& [action, theme] : theme_actions) {
    action->setCheckable(true);
    themes->addAction(action);
    connect(action, &QAction::triggered, this, [t = theme] {
      apply_theme(t);
      QSettings().setValue("theme", theme_name(t));
    });
  }
  language_menu_ = view_menu_->addMenu(QString());
  language_group_ = new QActionGroup(this);
  for (const QString& lang : available_languages()) {
    QAction* a = language_menu_->addAction(language_native_name(lang));
    a->setCheckable(true);
    a->setData(lang);
    language_group_->addAction(a);
    connect(a, &QAction::triggered, this, [this, lang] {
      setLanguage(lang);
      QSettings().setValue("language", lang);
    });
  }

  help_menu_ = menuBar()->addMenu(QString());
  about_ = help_menu_->addAction(QString(), this, &MainWindow::showAbout);
  about_->setShortcut(QKeySequence::HelpContents);
  about_qt_ = help_menu_->addAction(QString(), qApp, &QApplication::aboutQt);
}

void MainWindow::retranslate() {
  updateTitle();
  const QHash<QString, QString> titles = {
      {"modelDock", tr("Model")},
      {"settingsDock", tr("Settings")},
      {"layerExpertDock", tr("Layer × expert")},
      {"tokenExpertDock", tr("Token × expert")},
      {"affinityDock", tr("Expert affinity")},
      {"policyDock", tr("Policy comparison")},
      {"curvesDock", tr("Hit rate vs capacity")},
      {"tracesDock", tr("Traces")},
      {"suitabilityDock", tr("Suitability")},
      {"devicesDock", tr("Devices")},
      {"workloadDock", tr("Workload")},
      {"stepsDock", tr("Steps")},
  };
  for (QDockWidget* dock : docks_) dock->setWindowTitle(titles.value(dock->objectName()));
  file_menu_->setTitle(tr("&File"));
  open_model_->setText(tr("&Open model…"));
  open_trace_->setText(tr("Open &trace…"));
  export_menu_->setTitle(tr("&Export"));
  for (QAction* a : export_menu_->actions()) {
    const QString id = a->data().toString();
    if (id.isEmpty()) continue;
    if (id.startsWith("csv:")) {
      a->setText(tr("CSV: %1 table…").arg(id.mid(4)));
    } else if (id == "json") {
      a->setText(tr("JSON (everything the run holds)…"));
    } else if (id == "perfetto") {
      a->setText(tr("Perfetto / Chrome trace…"));
    } else if (id == "html") {
      a->setText(tr("HTML report…"));
    } else if (id == "pdf") {
      a->setText(tr("PDF report…"));
    }
  }
  reset_layout_->setText(tr("&Reset layout"));
  quit_->setText(tr("&Quit"));
  run_menu_->setTitle(tr("&Run"));
  generate_->setText(tr("&Generate"));
  stop_->setText(tr("&Stop"));
  view_menu_->setTitle(tr("&View"));
  theme_menu_->setTitle(tr("&Theme"));
  theme_system_->setText(tr("System"));
  theme_light_->setText(tr("Light"));
  theme_dark_->setText(tr("Dark"));
  language_menu_->setTitle(tr("&Language"));
  help_menu_->setTitle(tr("&Help"));
  about_->setText(tr("&About MoEScope"));
  about_qt_->setText(tr("About &Qt"));
  // A message still on show is said again in the new language, for the time it had left.
  if (status_text_ && !statusBar()->currentMessage().isEmpty()) {
    const qint64 left = status_deadline_.remainingTime();
    if (left != 0) statusBar()->showMessage(status_text_(), left < 0 ? 0 : int(left));
  }
}

void MainWindow::showStatus(std::function<QString()> text, int timeout_ms) {
  status_text_ = std::move(text);
  status_deadline_ =
      timeout_ms > 0 ? QDeadlineTimer(timeout_ms) : QDeadlineTimer(QDeadlineTimer::Forever);
  statusBar()->showMessage(status_text_(), timeout_ms);
}

void MainWindow::setLanguage(const QString& language) {
  language_ = install_language(language) ? language : QStringLiteral("en");
  // Numbers in the language's convention (decimal comma in German).
  QLocale::setDefault(QLocale(language_ == "en" ? QStringLiteral("en_US") : language_));
  // Widgets keep the locale they were made with: hand the new one down (spin boxes, charts).
  setLocale(QLocale());
  // Widgets retranslate on LanguageChange events, which Qt posts: deliver them now.
  QCoreApplication::sendPostedEvents(nullptr, QEvent::LanguageChange);
  for (QAction* a : language_group_->actions()) a->setChecked(a->data().toString() == language_);
}

void MainWindow::changeEvent(QEvent* event) {
  if (event->type() == QEvent::LanguageChange) retranslate();
  QMainWindow::changeEvent(event);
}

void MainWindow::openStartModel(const QString& path) {
  if (!path.isEmpty()) {
    session_->openModel(path);
    return;
  }
  try {
    session_->openModel(QString::fromStdString(cli::find_default_model().string()));
  } catch (const Error& e) {
    const QString error = QString::fromUtf8(e.what());
    showStatus([error] { return tr("No default model: %1").arg(error); }, 15000);
  }
}

void MainWindow::showAbout() {
  QMessageBox::about(
      this, tr("About MoEScope"),
      tr("<h3>MoEScope %1</h3>"
         "<p>A profiler for mixture-of-experts inference: it runs MoE models on its own CPU "
         "engine, offloads their experts to a bounded cache, and shows every token's routing, "
         "cache hits and stalls live.</p>"
         "<p>Built with Qt %2. Licensed under the Apache License 2.0.</p>")
          .arg(QCoreApplication::applicationVersion(), QString::fromLatin1(qVersion())));
}

void MainWindow::closeEvent(QCloseEvent* event) {
  saveSettings();
  session_->stop();
  QMainWindow::closeEvent(event);
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event) {
  if (!views::dropped_file(event->mimeData(), {".gguf", ".sqlite"}).isEmpty()) {
    event->acceptProposedAction();
  }
}

void MainWindow::dropEvent(QDropEvent* event) {
  const QString file = views::dropped_file(event->mimeData(), {".gguf", ".sqlite"});
  if (file.isEmpty()) return;
  event->acceptProposedAction();
  if (file.endsWith(".sqlite", Qt::CaseInsensitive)) {
    openTrace(file);
  } else {
    session_->openModel(file);
  }
}

void MainWindow::openTrace(const QString& path) {
  traces_->openTrace(path);  // its opening signal brings the panel forward
}

void MainWindow::raiseDock(const QString& object_name) {
  for (QDockWidget* dock : docks_) {
    if (dock->objectName() == object_name) {
      dock->show();
      dock->raise();
    }
  }
}

void MainWindow::restoreSettings() {
  QSettings s;
  model_panel_->setRecentFiles(s.value("recentModels").toStringList());
  const Theme theme = theme_from_name(s.value("theme", "system").toString());
  (theme == Theme::kDark    ? theme_dark_
   : theme == Theme::kLight ? theme_light_
                            : theme_system_)
      ->setChecked(true);
  if (theme != Theme::kSystem) apply_theme(theme);
  if (!restoreGeometry(s.value("window/geometry").toByteArray())) resize(1400, 900);
  if (!restoreState(s.value("window/state").toByteArray())) {
    // First start: once the window has its size, give the docks room around the text.
    QTimer::singleShot(0, this, &MainWindow::applyDefaultLayout);
  } else {
    QTimer::singleShot(0, this, &MainWindow::rescueFloatingDocks);  // once shown
  }
}

void MainWindow::applyDefaultLayout() {
  QHash<QString, QDockWidget*> d;
  for (QDockWidget* dock : docks_) d.insert(dock->objectName(), dock);
  const int w = width(), h = height();
  // The bottom row first: the left and right columns share what it leaves.
  resizeDocks({d["policyDock"]}, {std::max(280, h * 9 / 25)}, Qt::Vertical);
  resizeDocks({d["modelDock"]}, {std::max(360, w * 6 / 25)}, Qt::Horizontal);
  resizeDocks({d["layerExpertDock"]}, {std::max(420, w * 3 / 10)}, Qt::Horizontal);
  resizeDocks({d["modelDock"], d["settingsDock"]}, {h / 2, h / 2}, Qt::Vertical);
  resizeDocks({d["layerExpertDock"], d["affinityDock"]}, {h / 3, h / 3}, Qt::Vertical);
}

void MainWindow::saveSettings() const {
  QSettings s;
  s.setValue("window/geometry", saveGeometry());
  s.setValue("window/state", saveState());
  views::save_run_settings(s, session_->settings());
}

}  // namespace moescope::gui
