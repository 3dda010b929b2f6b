#pragma once
// The GUI's handle on batched workloads: it starts a BatchJob on the session controller's engine
// thread (which alone runs the model; the session is busy meanwhile, so a generation cannot
// start beside it), copies the job's runs into runs() at most 30 times a second, and cancels it
// on Stop (the engine checks the flag before every step). Jobs carry increasing ids; the results
// of any job but the newest are dropped. A batched run read from a trace is shown the same way.
#include <QObject>
#include <QString>
#include <QTimer>

#include <cstdint>
#include <memory>
#include <vector>

#include "views/batch/batch_job.h"
#include "views/batch/batch_run.h"

namespace moescope::views {

class SessionController;

class BatchController : public QObject {
  Q_OBJECT
 public:
  explicit BatchController(SessionController* session, QObject* parent = nullptr);
  ~BatchController() override;

  // One run per scheduler, in the order they ran (live), or the trace's run.
  const std::vector<BatchRun>& runs() const { return runs_; }
  bool running() const { return job_ != nullptr; }
  // Where runs() came from: empty for a live workload, else the trace file and its run.
  QString tracePath() const { return trace_path_; }
  qint64 traceRun() const { return trace_run_; }

  // Starts the workload with the session's settings (sampling, cache, recording). False, and
  // failed() with the reason, for a bad workload, without a model, or while the engine is busy.
  bool start(const BatchWorkload& workload);
  void stop();
  // Reads run `run` of a trace in the background and shows it when it is batched; a run that is
  // not batched clears the views (traceShown with false).
  void openTrace(const QString& path, qint64 run);
  // Shows runs built elsewhere (tests, a trace).
  void showRuns(std::vector<BatchRun> runs);

 Q_SIGNALS:
  // runs() was replaced: another number of runs, other requests.
  void runsReset();
  // Run `index` of runs() changed (live: new tokens, steps, states).
  void runUpdated(int index);
  void runFinished();
  void runFailed(const QString& error);
  void traceShown(const QString& path, qint64 run, bool batched);

 private:
  void poll();
  void jobDone(const std::shared_ptr<BatchJob>& job);

  SessionController* session_;
  QTimer refresh_;
  uint64_t job_counter_ = 0;
  uint64_t trace_job_ = 0;
  std::shared_ptr<BatchJob> job_;
  std::vector<BatchRun> runs_;
  QString trace_path_;
  qint64 trace_run_ = -1;
};

}  // namespace moescope::views
