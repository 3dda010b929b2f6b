// How long the desktop app takes to show a 100k-token trace: from File > Open trace until the
// main window has painted the text, the heatmaps and the status bar with the run (the cache
// analysis then follows in the background; its time is reported as a counter). The trace is a
// synthetic one (storage/synthetic_recording.h) with the default model's shape, written once
// into the build tree. Run: QT_QPA_PLATFORM=offscreen build/bench/gui/bench_gui_trace_open
#include <QApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFile>
#include <QTimer>

#include <benchmark/benchmark.h>

#include <cstdlib>

#include "app/gui/main_window.h"
#include "storage/synthetic_recording.h"
#include "views/session/session_controller.h"

namespace {

constexpr int64_t kTokens = 100'000;

QString bench_trace() {
  const QString path = QString(MOESCOPE_BINARY_DIR) + "/bench_trace_100k.sqlite";
  if (!QFile::exists(path)) {
    moescope::storage::SyntheticRecording what;
    what.spec.kind = moescope::policy::SyntheticSpec::Kind::kBursty;
    what.spec.n_layers = 6;
    what.spec.n_experts = 16;
    what.spec.top_k = 2;
    what.spec.n_tokens = kTokens;
    what.spec.n_prefill = 64;
    what.spec.affinity = 0.5;
    what.policy = "lru";
    what.slots_per_layer = 4;
    moescope::storage::write_synthetic_trace(path.toStdString(), what);
  }
  return path;
}

// Waits (running the event loop) until `done` holds or 60 s pass.
template <typename F>
bool wait_for(F done) {
  QElapsedTimer t;
  t.start();
  while (!done() && t.elapsed() < 60000) {
    QEventLoop loop;
    QTimer::singleShot(1, &loop, &QEventLoop::quit);
    loop.exec();
  }
  return done();
}

void BM_OpenTrace100k(benchmark::State& state) {
  const QString path = bench_trace();
  double analysis_ms = 0;
  for (auto _ : state) {
    moescope::gui::MainWindow window;
    window.resize(1600, 1000);
    window.show();
    QApplication::processEvents();
    moescope::views::SessionController* s = window.session();
    QElapsedTimer timer;
    timer.start();
    window.openTrace(path);
    if (!wait_for([s] { return s->run().routed_count() >= kTokens; })) {
      state.SkipWithError("the trace did not open");
      return;
    }
    (void)window.grab();  // paints every visible view with the run
    state.SetIterationTime(double(timer.nsecsElapsed()) / 1e9);
    wait_for([s] { return s->run().analysis() != nullptr; });
    analysis_ms += double(timer.nsecsElapsed()) / 1e6;
  }
  state.counters["analysis_ms"] = benchmark::Counter(analysis_ms / double(state.iterations()));
  state.counters["tokens"] = double(kTokens);
}
BENCHMARK(BM_OpenTrace100k)->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace

int main(int argc, char** argv) {
  if (std::getenv("QT_QPA_PLATFORM") == nullptr) qputenv("QT_QPA_PLATFORM", "offscreen");
  QApplication app(argc, argv);
  QCoreApplication::setOrganizationName("MoEScope-bench");
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
