#pragma once
// The GUI's handle on the engine. It owns the engine thread, the loaded model, the current run
// and the shared selection. Work goes to the engine thread as jobs with increasing ids (in the
// manner of Hotspot's job tracker): starting a job cancels the one before, and results of any job
// but the newest are dropped. Stop sets the running generation's cancel flag, which the generator
// checks before every token. While a run is live a 30 Hz timer takes the recorder's pending data,
// so views get at most 30 updates a second however fast tokens come.
#include <QElapsedTimer>
#include <QObject>
#include <QString>
#include <QThread>
#include <QTimer>

#include <functional>
#include <memory>
#include <optional>

#include "engine/model/generator.h"
#include "engine/policy/cache_counters.h"
#include "views/session/analysis_scheduler.h"
#include "views/session/loaded_model.h"
#include "views/session/run_data.h"
#include "views/session/run_settings.h"
#include "views/session/selection.h"

namespace moescope::views {

struct GenerationJob;

class SessionController : public QObject {
  Q_OBJECT
 public:
  enum class State { kNoModel, kLoadingModel, kReady, kGenerating, kStopping };
  Q_ENUM(State)
  static constexpr int kRefreshIntervalMs = 33;  // at most 30 view updates a second

  explicit SessionController(QObject* parent = nullptr);
  ~SessionController() override;

  State state() const { return state_; }
  bool busy() const {
    return state_ == State::kLoadingModel || state_ == State::kGenerating ||
           state_ == State::kStopping;
  }
  // The loaded model, or null. Replaced (not modified) when another model is opened.
  const LoadedModel* model() const { return model_.get(); }
  // The same, shared: for background work that must keep it alive.
  std::shared_ptr<const LoadedModel> shared_model() const { return model_; }
  const RunData& run() const { return run_; }
  Selection* selection() { return &selection_; }
  const RunSettings& settings() const { return settings_; }
  uint64_t run_id() const { return run_id_; }
  // How the last generation ended (valid after runFinished).
  const GenerationStats& last_stats() const { return last_stats_; }
  // The expert store's own counters for the last run when offloading was on.
  const std::optional<policy::CacheReport>& live_decisions() const { return live_decisions_; }
  bool last_run_offloaded() const { return last_offloaded_; }
  QString run_title() const { return run_title_; }
  // The trace the run on show was read from (empty for a live run), its run id, the model it was
  // recorded with, and whether that is another model than the loaded one.
  QString trace_path() const { return trace_path_; }
  qint64 trace_run() const { return trace_run_; }
  QString trace_model() const { return trace_model_; }
  bool trace_from_other_model() const { return trace_other_model_; }
  // Tokens whose routing the engine has produced so far: ahead of run() until the next refresh.
  int engine_routed_count() const;

  // The user's settings. Changing the cache settings while a trace's run is on show re-analyses
  // it with them (a what-if) instead of the recorded ones.
  void setSettings(const RunSettings& settings);
  // The cache settings the run on show was recorded with, when it was read from a trace that
  // recorded them: shown read-only, never written into settings() (opening a trace must not
  // change what the user chose). The analysis uses analysis_cache().
  const std::optional<CacheSettings>& recorded_cache() const { return recorded_cache_; }
  // What the run on show is analysed with: the recorded settings until the user changes the
  // cache settings, else settings().cache.
  const CacheSettings& analysis_cache() const;
  // Copies the recorded cache settings into settings() (the explicit "use these settings").
  void useRecordedCache();
  // Runs `work` on the engine thread, which alone runs the model (views/batch: a batched
  // workload), then `done` on the GUI thread. The controller is kGenerating meanwhile, so no
  // generation or other task starts; Stop (and opening another model, and closing) calls
  // `cancel`, which must make `work` return soon. False, and nothing runs, without a model or
  // while busy.
  bool runEngineTask(std::function<void(const std::shared_ptr<LoadedModel>&)> work,
                     std::function<void()> done, std::function<void()> cancel);
  // Shows a run read from elsewhere (a recorded trace) as if it had just been generated.
  void showRun(const policy::MoeShape& shape, const RunDelta& data, const QString& title);

 public Q_SLOTS:
  void openModel(const QString& path);
  // Generates with the current settings. False (and nothing happens) without a model or while
  // another job runs.
  bool generate();
  void stop();
  // Reads run `run` (the newest when < 0) of a trace in the background, then shows it like a
  // live run, analysed with the cache settings it was recorded with.
  void openTrace(const QString& path, qint64 run = -1);

 Q_SIGNALS:
  void stateChanged(moescope::views::SessionController::State state);
  void modelLoading(const QString& path);
  void modelLoaded();
  void modelFailed(const QString& path, const QString& error);
  void runStarted();
  // Tokens from firstToken on and routing from firstRouted on were appended to run().
  void runUpdated(int firstToken, int firstRouted);
  void runFinished();
  void runFailed(const QString& error);
  // run().analysis() changed: the first stages of a run's first analysis (AnalysisResult::parts)
  // and then each complete one.
  void analysisUpdated();
  void settingsChanged();
  // recorded_cache() or analysis_cache() changed.
  void recordedCacheChanged();
  void traceLoading(const QString& path);
  void traceOpened(const QString& path, qint64 run);
  void traceFailed(const QString& path, const QString& error);

 private:
  void setState(State state);
  void poll();
  void jobFinished(const std::shared_ptr<GenerationJob>& job);
  void requestAnalysis(bool force);
  void forgetRecordedCache();
  void analysisDone(uint64_t run_id, std::shared_ptr<const AnalysisResult> result);

  QThread engine_thread_;
  QObject* engine_context_ = nullptr;  // lives on engine_thread_
  AnalysisScheduler analysis_;
  QTimer refresh_;
  QElapsedTimer since_analysis_;

  State state_ = State::kNoModel;
  uint64_t job_counter_ = 0;
  uint64_t load_job_ = 0;
  uint64_t trace_job_ = 0;
  std::shared_ptr<LoadedModel> model_;
  std::shared_ptr<GenerationJob> job_;  // the newest generation
  std::function<void()> task_cancel_;   // the running engine task's, if one runs
  uint64_t run_id_ = 0;
  int analysed_routed_ = -1;
  bool run_from_trace_ = false;  // the run on show was read, not generated
  RunData run_;
  Selection selection_;
  RunSettings settings_;
  std::optional<CacheSettings> recorded_cache_;
  bool analyse_with_recorded_ = false;
  GenerationStats last_stats_;
  std::optional<policy::CacheReport> live_decisions_;
  bool last_offloaded_ = false;
  QString run_title_;
  QString trace_path_;
  qint64 trace_run_ = -1;
  QString trace_model_;
  bool trace_other_model_ = false;
};

}  // namespace moescope::views
