#include "views/session/analysis_scheduler.h"

#include <QMetaObject>

namespace moescope::views {

AnalysisScheduler::AnalysisScheduler(QObject* parent) : QObject(parent) {
  thread_.setObjectName("moescope-analysis");
  context_ = new QObject;
  context_->moveToThread(&thread_);
  connect(&thread_, &QThread::finished, context_, &QObject::deleteLater);
  thread_.start(QThread::LowPriority);
}

AnalysisScheduler::~AnalysisScheduler() {
  pending_.reset();
  thread_.quit();
  thread_.wait();
}

void AnalysisScheduler::request(uint64_t run_id, policy::RoutingTrace trace, CacheSettings settings,
                                GatePredictions gate_predictions) {
  Request r{run_id, std::make_shared<policy::RoutingTrace>(std::move(trace)), std::move(settings),
            std::make_shared<const GatePredictions>(std::move(gate_predictions))};
  if (busy_) {
    pending_ = std::move(r);
    return;
  }
  start(std::move(r));
}

void AnalysisScheduler::start(Request r) {
  busy_ = true;
  QMetaObject::invokeMethod(
      context_,
      [this, r] {
        std::shared_ptr<const AnalysisResult> result;
        try {
          r.trace->validate();
          result =
              analyse(*r.trace, r.settings, r.gate_predictions.get(),
                      [this, id = r.run_id](std::shared_ptr<const AnalysisResult> part) {
                        QMetaObject::invokeMethod(
                            this, [this, id, part] { partial(id, part); }, Qt::QueuedConnection);
                      });
        } catch (const std::exception&) {
          // A routing the policy engine rejects yields no analysis; the views show none.
        }
        QMetaObject::invokeMethod(
            this, [this, id = r.run_id, result] { finished(id, result); }, Qt::QueuedConnection);
      },
      Qt::QueuedConnection);
}

void AnalysisScheduler::partial(uint64_t run_id, std::shared_ptr<const AnalysisResult> result) {
  if (callback_) callback_(run_id, std::move(result));
}

void AnalysisScheduler::finished(uint64_t run_id, std::shared_ptr<const AnalysisResult> result) {
  busy_ = false;
  if (pending_) {
    Request next = std::move(*pending_);
    pending_.reset();
    start(std::move(next));
  }
  if (result && callback_) callback_(run_id, std::move(result));
}

}  // namespace moescope::views
