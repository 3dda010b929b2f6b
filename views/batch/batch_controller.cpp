#include "views/batch/batch_controller.h"

#include "engine/common/error.h"
#include "views/batch/batch_trace_loading.h"
#include "views/common/background.h"
#include "views/session/session_controller.h"

namespace moescope::views {

BatchController::BatchController(SessionController* session, QObject* parent)
    : QObject(parent), session_(session) {
  refresh_.setInterval(SessionController::kRefreshIntervalMs);
  connect(&refresh_, &QTimer::timeout, this, &BatchController::poll);
}

BatchController::~BatchController() {
  if (job_) job_->cancel->store(true);
}

bool BatchController::start(const BatchWorkload& workload) {
  const LoadedModel* model = session_->model();
  QString error;
  if (model == nullptr) {
    error = tr("no model is loaded");
  } else if (session_->busy()) {
    error = tr("the engine is busy; stop the running generation first");
  }
  std::shared_ptr<BatchJob> job;
  if (error.isEmpty()) {
    try {
      job = std::make_shared<BatchJob>(++job_counter_, *model, session_->settings(), workload);
    } catch (const Error& e) {
      error = QString::fromUtf8(e.what());
    }
  }
  if (job) {
    const bool started = session_->runEngineTask(
        [job](const std::shared_ptr<LoadedModel>& m) { job->run(*m); },
        [this, job] { jobDone(job); }, [cancel = job->cancel] { cancel->store(true); });
    if (!started) error = tr("the engine is busy; stop the running generation first");
  }
  if (!error.isEmpty()) {
    Q_EMIT runFailed(error);
    return false;
  }
  job_ = job;
  trace_path_.clear();
  trace_run_ = -1;
  runs_.clear();
  for (const auto& recorder : job->recorders) runs_.push_back(*recorder->take_if_changed());
  Q_EMIT runsReset();
  refresh_.start();
  return true;
}

void BatchController::stop() {
  if (job_) session_->stop();  // calls the job's cancel
}

void BatchController::poll() {
  if (!job_) return;
  for (size_t i = 0; i < job_->recorders.size() && i < runs_.size(); ++i) {
    if (auto run = job_->recorders[i]->take_if_changed()) {
      runs_[i] = std::move(*run);
      Q_EMIT runUpdated(int(i));
    }
  }
}

void BatchController::jobDone(const std::shared_ptr<BatchJob>& job) {
  if (job != job_) return;  // replaced: its results belong to no one
  poll();
  refresh_.stop();
  job_.reset();
  if (!job->ok) {
    Q_EMIT runFailed(job->error);
    return;
  }
  Q_EMIT runFinished();
}

void BatchController::showRuns(std::vector<BatchRun> runs) {
  if (job_) {
    job_->cancel->store(true);
    job_.reset();
    refresh_.stop();
  }
  runs_ = std::move(runs);
  Q_EMIT runsReset();
}

void BatchController::openTrace(const QString& path, qint64 run) {
  const uint64_t id = ++trace_job_;
  struct Result {
    std::optional<BatchRun> run;
    QString error;
  };
  run_in_background<Result>(
      this,
      [path, run] {
        Result r;
        try {
          r.run = load_batch_run(path.toStdString(), run);
        } catch (const std::exception& e) {
          r.error = QString::fromUtf8(e.what());
        }
        return r;
      },
      [this, id, path, run](Result r) {
        if (id != trace_job_ || job_) return;  // asked again since, or a live workload runs
        if (!r.error.isEmpty()) {
          Q_EMIT runFailed(r.error);
          return;
        }
        std::vector<BatchRun> runs;
        if (r.run) runs.push_back(std::move(*r.run));
        showRuns(std::move(runs));
        trace_path_ = path;
        trace_run_ = run;
        Q_EMIT traceShown(path, run, !runs_.empty());
      });
}

}  // namespace moescope::views
