#pragma once
// The main window: the prompt and the coloured text in the middle; the model, the settings and
// every analysis view in docks around it; a status bar with the run's figures. Settings, the dock
// layout, recent files, the theme and the language persist in QSettings.
#include <QMainWindow>
#include <QString>

#include <QDeadlineTimer>

#include <functional>
#include <memory>

class QAction;
class QActionGroup;
class QDockWidget;
class QMenu;
class QProgressBar;

namespace moescope::views {
class SessionController;
class ModelPanel;
class SettingsPanel;
class PromptPanel;
class TextPanel;
class RunStatus;
class LayerExpertPanel;
class TokenExpertPanel;
class AffinityPanel;
class PolicyComparisonPanel;
class CapacityCurvesPanel;
class TracePanel;
class BatchController;
class WorkloadPanel;
class StepTimelinePanel;
}  // namespace moescope::views

namespace moescope::gui {

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  explicit MainWindow(QWidget* parent = nullptr);
  ~MainWindow() override;

  views::SessionController* session() const { return session_; }
  views::ModelPanel* modelPanel() const { return model_panel_; }
  views::SettingsPanel* settingsPanel() const { return settings_panel_; }
  views::PromptPanel* promptPanel() const { return prompt_panel_; }
  views::TextPanel* textPanel() const { return text_panel_; }
  views::RunStatus* runStatus() const { return run_status_; }
  views::LayerExpertPanel* layerExpertPanel() const { return layer_expert_; }
  views::TokenExpertPanel* tokenExpertPanel() const { return token_expert_; }
  views::AffinityPanel* affinityPanel() const { return affinity_; }
  views::PolicyComparisonPanel* policyPanel() const { return policies_; }
  views::CapacityCurvesPanel* curvesPanel() const { return curves_; }
  views::TracePanel* tracePanel() const { return traces_; }
  // The workload mode: batched runs, their requests and step timeline.
  views::BatchController* batchController() const { return batch_; }
  views::WorkloadPanel* workloadPanel() const { return workload_; }
  views::StepTimelinePanel* stepTimelinePanel() const { return steps_; }
  // Lists the trace's runs in the Traces dock and shows its newest run.
  void openTrace(const QString& path);
  QList<QDockWidget*> docks() const;

  // Opens `path`, or the default model (cli/default_model.h) when empty. Reports a missing
  // default model in the model panel and the status bar.
  void openStartModel(const QString& path);
  void setLanguage(const QString& language);  // "en", "de", "zh_CN"
  QString language() const { return language_; }
  // Sizes the docks for the window's current size (the first start's layout).
  void applyDefaultLayout();
  // View → Reset layout: every dock back where the first start puts it, shown and docked.
  void resetLayout();
  // File → Export: writes the run on show, from its trace, as `kind` (trace_export.h) to `path`.
  // False (and the reason in the status bar and *error) when no trace run is on show or the
  // export fails.
  bool exportTrace(const QString& kind, const QString& path, QString* error = nullptr);
  QMenu* exportMenu() const { return export_menu_; }
  QProgressBar* busyIndicator() const { return busy_; }

 public Q_SLOTS:
  void showAbout();

 protected:
  void closeEvent(QCloseEvent* event) override;
  void changeEvent(QEvent* event) override;
  void dragEnterEvent(QDragEnterEvent* event) override;
  void dropEvent(QDropEvent* event) override;

 private:
  QDockWidget* addDock(QWidget* widget, const QString& object_name, Qt::DockWidgetArea area);
  void createMenus();
  void createStatusBar();
  void retranslate();
  void restoreSettings();
  void saveSettings() const;
  // Shows a status message for `timeout_ms`; `text` is asked again when the language changes,
  // so a message on show is retranslated with everything else.
  void showStatus(std::function<QString()> text, int timeout_ms);
  void updateTitle();
  void raiseDock(const QString& object_name);
  void chooseExport(const QString& kind);
  // Floating docks restored outside every screen are docked again, so that they can be seen.
  void rescueFloatingDocks();

  views::SessionController* session_;
  views::ModelPanel* model_panel_;
  views::SettingsPanel* settings_panel_;
  views::PromptPanel* prompt_panel_;
  views::TextPanel* text_panel_;
  views::RunStatus* run_status_;
  views::LayerExpertPanel* layer_expert_;
  views::TokenExpertPanel* token_expert_;
  views::AffinityPanel* affinity_;
  views::PolicyComparisonPanel* policies_;
  views::CapacityCurvesPanel* curves_;
  views::TracePanel* traces_;
  views::BatchController* batch_;
  views::WorkloadPanel* workload_;
  views::StepTimelinePanel* steps_;
  QList<QDockWidget*> docks_;
  QString language_ = "en";
  std::function<QString()> status_text_;
  QDeadlineTimer status_deadline_;

  QMenu* file_menu_ = nullptr;
  QMenu* run_menu_ = nullptr;
  QMenu* view_menu_ = nullptr;
  QMenu* theme_menu_ = nullptr;
  QMenu* language_menu_ = nullptr;
  QMenu* help_menu_ = nullptr;
  QMenu* export_menu_ = nullptr;
  QAction* reset_layout_ = nullptr;
  QProgressBar* busy_ = nullptr;
  QByteArray default_state_;  // the docks as built, for Reset layout
  QAction* open_model_ = nullptr;
  QAction* open_trace_ = nullptr;
  QAction* quit_ = nullptr;
  QAction* generate_ = nullptr;
  QAction* stop_ = nullptr;
  QAction* about_ = nullptr;
  QAction* about_qt_ = nullptr;
  QAction* theme_system_ = nullptr;
  QAction* theme_light_ = nullptr;
  QAction* theme_dark_ = nullptr;
  QActionGroup* language_group_ = nullptr;
};

}  // namespace moescope::gui
