#pragma once
// Runs the cache analysis (analysis.h) on its own thread, newest request wins: while one analysis
// runs, a newer request replaces any waiting one, and results arrive on the GUI thread tagged
// with the run they belong to, so the caller can drop results of runs it has replaced. An
// analysis arrives in stages (AnalysisResult::parts): its incomplete snapshots first, in order,
// then the complete result.
#include <QObject>
#include <QThread>

#include <functional>
#include <memory>
#include <optional>

#include "engine/policy/routing_trace.h"
#include "views/session/analysis.h"

namespace moescope::views {

class AnalysisScheduler : public QObject {
  Q_OBJECT
 public:
  using Callback = std::function<void(uint64_t run_id, std::shared_ptr<const AnalysisResult>)>;

  explicit AnalysisScheduler(QObject* parent = nullptr);
  ~AnalysisScheduler() override;

  // Called on the GUI thread with each snapshot and each finished analysis.
  void set_callback(Callback callback) { callback_ = std::move(callback); }
  void request(uint64_t run_id, policy::RoutingTrace trace, CacheSettings settings,
               GatePredictions gate_predictions = {});
  bool busy() const { return busy_; }
  // Forgets a waiting request (a running one finishes and is delivered; the caller filters it).
  void drop_pending() { pending_.reset(); }

 private:
  struct Request {
    uint64_t run_id;
    std::shared_ptr<policy::RoutingTrace> trace;
    CacheSettings settings;
    std::shared_ptr<const GatePredictions> gate_predictions;
  };
  void start(Request request);
  void partial(uint64_t run_id, std::shared_ptr<const AnalysisResult> result);
  void finished(uint64_t run_id, std::shared_ptr<const AnalysisResult> result);

  QThread thread_;
  QObject* context_ = nullptr;  // lives on thread_
  bool busy_ = false;
  std::optional<Request> pending_;
  Callback callback_;
};

}  // namespace moescope::views
