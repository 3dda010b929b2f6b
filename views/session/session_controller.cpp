#include "views/session/session_controller.h"

#include <QMetaObject>

#include "engine/common/error.h"
#include "views/common/background.h"
#include "views/session/generation_job.h"
#include "views/session/trace_loading.h"

namespace moescope::views {
namespace {
constexpr int kAnalysisIntervalMs = 250;  // live re-analysis at most this often
}

SessionController::SessionController(QObject* parent) : QObject(parent), analysis_(this) {
  engine_thread_.setObjectName("moescope-engine");
  engine_context_ = new QObject;
  engine_context_->moveToThread(&engine_thread_);
  connect(&engine_thread_, &QThread::finished, engine_context_, &QObject::deleteLater);
  engine_thread_.start();

  refresh_.setInterval(kRefreshIntervalMs);
  connect(&refresh_, &QTimer::timeout, this, &SessionController::poll);
  analysis_.set_callback([this](uint64_t id, std::shared_ptr<const AnalysisResult> result) {
    analysisDone(id, std::move(result));
  });
  since_analysis_.start();
}

SessionController::~SessionController() {
  if (job_) job_->cancel.store(true);
  if (task_cancel_) task_cancel_();
  engine_thread_.quit();
  engine_thread_.wait();
}

void SessionController::setState(State state) {
  if (state == state_) return;
  state_ = state;
  Q_EMIT stateChanged(state_);
}

void SessionController::setSettings(const RunSettings& settings) {
  const bool cache_changed = !(settings.cache == settings_.cache);
  settings_ = settings;
  Q_EMIT settingsChanged();
  if (cache_changed && analyse_with_recorded_) {
    analyse_with_recorded_ = false;
    Q_EMIT recordedCacheChanged();
  }
  if (cache_changed && run_.routed_count() > 0) requestAnalysis(true);
}

const CacheSettings& SessionController::analysis_cache() const {
  return analyse_with_recorded_ && recorded_cache_ ? *recorded_cache_ : settings_.cache;
}

void SessionController::useRecordedCache() {
  if (!recorded_cache_) return;
  RunSettings s = settings_;
  s.cache = *recorded_cache_;
  setSettings(s);
}

void SessionController::openModel(const QString& path) {
  if (task_cancel_) task_cancel_();  // the load queues behind the task on the engine thread
  if (job_) {
    job_->cancel.store(true);
    job_.reset();
    refresh_.stop();
  }
  const uint64_t id = ++job_counter_;
  load_job_ = id;
  setState(State::kLoadingModel);
  Q_EMIT modelLoading(path);
  const int threads = settings_.threads;
  QMetaObject::invokeMethod(
      engine_context_,
      [this, id, path, threads] {
        std::shared_ptr<LoadedModel> loaded;
        QString error;
        try {
          loaded = LoadedModel::load(path.toStdString(), threads);
        } catch (const std::exception& e) {
          error = QString::fromUtf8(e.what());
        }
        QMetaObject::invokeMethod(
            this,
            [this, id, path, loaded, error] {
              if (id != load_job_) return;  // a newer job replaced this one
              load_job_ = 0;
              if (!loaded) {
                setState(model_ ? State::kReady : State::kNoModel);
                Q_EMIT modelFailed(path, error);
                return;
              }
              model_ = loaded;
              setState(State::kReady);
              Q_EMIT modelLoaded();
              // An empty run of the new model's shape, unless a recorded run is on show.
              if (!run_from_trace_) {
                run_id_ = ++job_counter_;
                run_.reset(model_->shape);
                selection_.clear();
                Q_EMIT runStarted();
              }
            },
            Qt::QueuedConnection);
      },
      Qt::QueuedConnection);
}

bool SessionController::generate() {
  if (!model_ || busy()) return false;
  auto job = std::make_shared<GenerationJob>(++job_counter_, model_, settings_);
  job_ = job;
  run_id_ = job->id;
  run_from_trace_ = false;
  run_.reset(model_->shape);
  analysed_routed_ = -1;
  analysis_.drop_pending();
  live_decisions_.reset();
  last_offloaded_ = false;
  run_title_ = model_->display_name();
  selection_.clear();
  forgetRecordedCache();
  trace_path_.clear();
  trace_run_ = -1;
  trace_model_.clear();
  trace_other_model_ = false;
  setState(State::kGenerating);
  Q_EMIT runStarted();
  refresh_.start();
  QMetaObject::invokeMethod(
      engine_context_,
      [this, job] {
        job->run();
        QMetaObject::invokeMethod(
            this, [this, job] { jobFinished(job); }, Qt::QueuedConnection);
      },
      Qt::QueuedConnection);
  return true;
}

bool SessionController::runEngineTask(std::function<void(const std::shared_ptr<LoadedModel>&)> work,
                                      std::function<void()> done, std::function<void()> cancel) {
  if (!model_ || busy() || task_cancel_) return false;
  task_cancel_ = std::move(cancel);
  setState(State::kGenerating);
  QMetaObject::invokeMethod(
      engine_context_,
      [this, work = std::move(work), done = std::move(done), model = model_]() mutable {
        work(model);
        QMetaObject::invokeMethod(
            this,
            [this, done = std::move(done)] {
              task_cancel_ = nullptr;
              if (load_job_ == 0) setState(model_ ? State::kReady : State::kNoModel);
              done();
            },
            Qt::QueuedConnection);
      },
      Qt::QueuedConnection);
  return true;
}

void SessionController::stop() {
  if (task_cancel_ && state_ == State::kGenerating) {
    task_cancel_();
    setState(State::kStopping);
    return;
  }
  if (!job_ || state_ != State::kGenerating) return;
  job_->cancel.store(true);
  setState(State::kStopping);
}

int SessionController::engine_routed_count() const {
  return job_ ? job_->recorder.routed_total() : run_.routed_count();
}

void SessionController::poll() {
  if (!job_) return;
  RunDelta delta = job_->recorder.take();
  if (delta.empty()) return;
  const int first_token = run_.token_count();
  const int first_routed = run_.routed_count();
  run_.apply(delta);
  Q_EMIT runUpdated(first_token, first_routed);
  requestAnalysis(false);
}

void SessionController::jobFinished(const std::shared_ptr<GenerationJob>& job) {
  if (job != job_) return;  // cancelled and replaced: its results belong to no one
  poll();
  refresh_.stop();
  last_stats_ = job->stats;
  live_decisions_ = job->live_decisions;
  last_offloaded_ = job->offloaded;
  job_.reset();
  setState(State::kReady);
  if (!job->ok) {
    Q_EMIT runFailed(job->error);
    return;
  }
  requestAnalysis(true);
  Q_EMIT runFinished();
}

void SessionController::showRun(const policy::MoeShape& shape, const RunDelta& data,
                                const QString& title) {
  if (job_) {
    job_->cancel.store(true);
    job_.reset();
    refresh_.stop();
    setState(model_ ? State::kReady : State::kNoModel);
  }
  run_id_ = ++job_counter_;
  run_from_trace_ = true;
  run_.reset(shape);
  analysed_routed_ = -1;
  analysis_.drop_pending();
  live_decisions_.reset();
  last_offloaded_ = false;
  run_title_ = title;
  selection_.clear();
  Q_EMIT runStarted();
  run_.apply(data);
  Q_EMIT runUpdated(0, 0);
  requestAnalysis(true);
  Q_EMIT runFinished();
}

void SessionController::openTrace(const QString& path, qint64 run) {
  const uint64_t id = ++job_counter_;
  trace_job_ = id;
  Q_EMIT traceLoading(path);
  struct Result {
    std::optional<LoadedRun> run;
    QString error;
  };
  run_in_background<Result>(
      this,
      [path, run, model = model_] {
        Result r;
        try {
          r.run = load_trace_run(path.toStdString(), run, model.get());
        } catch (const std::exception& e) {
          r.error = QString::fromUtf8(e.what());
        }
        return r;
      },
      [this, id, path](Result r) {
        if (id != trace_job_) return;  // another trace was asked for since
        if (!r.run) {
          Q_EMIT traceFailed(path, r.error);
          return;
        }
        // The user's settings stay as they are: the run is analysed with what it was recorded
        // with (the bounds as the user asked), and the settings panel shows that read-only.
        recorded_cache_.reset();
        if (r.run->cache) {
          recorded_cache_ = *r.run->cache;
          recorded_cache_->bounds = settings_.cache.bounds;
          recorded_cache_->sch_window = settings_.cache.sch_window;
        }
        analyse_with_recorded_ = recorded_cache_.has_value();
        Q_EMIT recordedCacheChanged();
        showRun(r.run->shape, r.run->data, r.run->title);
        trace_path_ = path;
        trace_run_ = r.run->run_id;
        trace_model_ = r.run->model_name;
        trace_other_model_ = r.run->other_model;
        Q_EMIT traceOpened(path, r.run->run_id);
      });
}

void SessionController::forgetRecordedCache() {
  if (!recorded_cache_ && !analyse_with_recorded_) return;
  recorded_cache_.reset();
  analyse_with_recorded_ = false;
  Q_EMIT recordedCacheChanged();
}

void SessionController::requestAnalysis(bool force) {
  const int routed = run_.routed_count();
  if (routed == 0) return;
  if (!force && (routed == analysed_routed_ || analysis_.busy() ||
                 since_analysis_.elapsed() < kAnalysisIntervalMs)) {
    return;
  }
  analysed_routed_ = routed;
  since_analysis_.restart();
  analysis_.request(run_id_, run_.routing_trace(), analysis_cache(), run_.gate_predictions());
}

void SessionController::analysisDone(uint64_t run_id,
                                     std::shared_ptr<const AnalysisResult> result) {
  if (run_id != run_id_ || !result || result->n_tokens > run_.routed_count()) return;
  // A stage of an analysis is shown only while no complete one is: a live run's views keep the
  // previous complete analysis until the next one is whole (no charts emptied and refilled).
  const auto& shown = run_.analysis();
  if (!result->complete() && shown && shown->complete()) return;
  run_.set_analysis(std::move(result));
  Q_EMIT analysisUpdated();
}

}  // namespace moescope::views
