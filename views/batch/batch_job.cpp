#include "views/batch/batch_job.h"

#include <QJsonDocument>
#include <QJsonObject>

#include <utility>

#include "engine/batching/scheduler.h"
#include "engine/batching/workload.h"
#include "engine/common/error.h"
#include "views/session/session_config.h"

namespace moescope::views {
namespace {

// The run's description in the trace says it was batched, as `moescope batch` says it: the batch
// settings under "batch" beside the window's own.
void describe_batch(storage::RecordingConfig& rc, const BatchWorkload& w,
                    const QString& scheduler) {
  rc.info.label = "moescope GUI batch (" + scheduler.toStdString() + ")";
  QJsonObject settings =
      QJsonDocument::fromJson(QByteArray::fromStdString(rc.info.settings_json)).object();
  settings["batch"] =
      QJsonObject{{"scheduler", scheduler}, {"max_batch", w.max_batch},
                  {"arrival", w.arrival},   {"arrival_seed", QString::number(w.arrival_seed)},
                  {"lossy", false},         {"requests", int(w.prompts.size())}};
  rc.info.settings_json = QJsonDocument(settings).toJson(QJsonDocument::Compact).toStdString();
}

}  // namespace

void check_workload(const BatchWorkload& w) {
  if (w.prompts.isEmpty()) fail("the workload has no prompts");
  for (qsizetype i = 0; i < w.prompts.size(); ++i) {
    if (w.prompts[i].isEmpty()) fail("prompt {} is empty", i + 1);
  }
  if (w.max_batch < 1) fail("the maximum batch must be at least 1, got {}", w.max_batch);
  if (w.schedulers.isEmpty()) fail("no scheduler chosen");
  for (const QString& s : w.schedulers) batching::make_scheduler(s.toStdString());
  batching::parse_arrival(w.arrival.toStdString(), w.arrival_seed);
}

BatchJob::BatchJob(uint64_t job_id, const LoadedModel& model, RunSettings run_settings,
                   BatchWorkload batch_workload)
    : id(job_id), settings(std::move(run_settings)), workload(std::move(batch_workload)) {
  check_workload(workload);
  for (const QString& scheduler : workload.schedulers) {
    BatchRun run;
    run.scheduler = scheduler;
    run.shape = model.shape;
    for (qsizetype i = 0; i < workload.prompts.size(); ++i) {
      BatchRequest r;
      r.id = i;
      r.prompt = workload.prompts[i];
      run.requests.push_back(std::move(r));
    }
    recorders.push_back(std::make_unique<BatchRecorder>(std::move(run)));
  }
}

void BatchJob::run(LoadedModel& model) {
  try {
    std::vector<storage::GenerationRequest> requests;
    for (qsizetype i = 0; i < workload.prompts.size(); ++i) {
      storage::GenerationRequest r;
      r.id = i;
      r.prompt = workload.prompts[i].toStdString();
      r.parse_special = true;  // as `moescope batch`
      r.options = settings.generation;
      r.options.max_new_tokens = workload.max_new_tokens;
      r.source_json = QJsonDocument(QJsonObject{{"gui", true}, {"index", int(i)}})
                          .toJson(QJsonDocument::Compact)
                          .toStdString();
      requests.push_back(std::move(r));
    }
    storage::BatchConfig batch;
    batch.engine.limits.max_batch = workload.max_batch;
    batch.arrival_s = batching::arrival_times(
        batching::parse_arrival(workload.arrival.toStdString(), workload.arrival_seed),
        requests.size());
    for (qsizetype i = 0; i < workload.schedulers.size() && !cancel->load(); ++i) {
      batch.engine.scheduler = workload.schedulers[i].toStdString();
      storage::SessionConfig config = session_config(model, settings);
      if (config.recording) describe_batch(*config.recording, workload, workload.schedulers[i]);
      storage::GenerationSession session(*model.model, *model.tokenizer, std::move(config));
      BatchRecorder& recorder = *recorders[size_t(i)];
      const storage::BatchSessionResult result =
          session.run_batch(requests, batch, recorder, cancel.get());
      recorder.finish(result, cancel->load());
    }
    ok = true;
  } catch (const std::exception& e) {
    error = QString::fromUtf8(e.what());
  }
}

}  // namespace moescope::views
