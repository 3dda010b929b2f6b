#include "tests/views/test_support.h"

#include <QElapsedTimer>
#include <QFile>
#include <QSignalSpy>

#include "views/session/analysis.h"

namespace moescope::views::test {

QString reference_model(const QString& name) {
  return QString(MOESCOPE_SHARED_DIR) + "/reference/models/" + name + ".gguf";
}

QJsonDocument read_json(const QString& path) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) return {};
  return QJsonDocument::fromJson(f.readAll());
}

bool load_model(SessionController& session, const QString& path, int timeout_ms) {
  QSignalSpy loaded(&session, &SessionController::modelLoaded);
  QSignalSpy failed(&session, &SessionController::modelFailed);
  session.openModel(path);
  QElapsedTimer timer;
  timer.start();
  while (loaded.isEmpty() && failed.isEmpty() && timer.elapsed() < timeout_ms) loaded.wait(100);
  return !loaded.isEmpty();
}

bool generate_and_wait(SessionController& session, int timeout_ms) {
  QSignalSpy finished(&session, &SessionController::runFinished);
  QSignalSpy failed(&session, &SessionController::runFailed);
  if (!session.generate()) return false;
  QElapsedTimer timer;
  timer.start();
  while (finished.isEmpty() && failed.isEmpty() && timer.elapsed() < timeout_ms) finished.wait(100);
  return !finished.isEmpty();
}

bool wait_analysis(SessionController& session, int timeout_ms) {
  QElapsedTimer timer;
  timer.start();
  QSignalSpy spy(&session, &SessionController::analysisUpdated);
  while (timer.elapsed() < timeout_ms) {
    const auto& a = session.run().analysis();
    if (a && a->complete() && a->n_tokens == session.run().routed_count()) return true;
    spy.wait(100);
  }
  return false;
}

bool open_trace(SessionController& session, const QString& path, qint64 run, int timeout_ms) {
  QSignalSpy opened(&session, &SessionController::traceOpened);
  session.openTrace(path, run);
  return opened.wait(timeout_ms) && wait_analysis(session);
}

RunSettings quick_settings(const QString& prompt, int n_tokens) {
  RunSettings s;
  s.prompt = prompt;
  s.generation.max_new_tokens = n_tokens;
  s.generation.sampling.temperature = 0;
  s.threads = 1;
  s.cache.offload = true;
  s.cache.budget_percent = 25;
  s.cache.policy = "lru";
  s.cache.compare = {"lfu", "fifo"};
  return s;
}

}  // namespace moescope::views::test
