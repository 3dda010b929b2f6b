// How long the desktop app takes to show a 100k-token trace, from File > Open trace:
//   - the iteration time: until the main window has painted the text, the heatmaps and the status
//     bar with the run (no analysis yet);
//   - first_charts_ms: until the first cache analysis (or its first stage) has arrived and the
//     window has painted it;
//   - all_charts_ms: until the whole analysis (the policies and the LRU/OPT curves, its last part)
//     has arrived and been painted;
//   - max_gui_gap_ms: the longest the GUI thread left a 5 ms timer waiting between the open and
//     the whole analysis (the bench's own paints excluded): how long the window froze;
//   - cpu_s: the process's CPU time from the open until it is idle again (background panels
//     included), then the next iteration starts.
// The trace is a synthetic one (storage/synthetic_recording.h) with the default model's shape,
// written once into the build tree, or the file named by MOESCOPE_BENCH_TRACE (so that two builds
// can be compared on the same file). The measures only use what every version of the app has, so
// this file can be built against an older tree. One iteration per repetition: interleave builds
// from the shell with --benchmark_repetitions=1 and take the medians (docs/suitability.md).
//   QT_QPA_PLATFORM=offscreen build/bench/gui/bench_gui_trace_open
#include <QApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFile>
#include <QTimer>

#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <algorithm>
#include <cstdlib>

#include "app/gui/main_window.h"
#include "storage/synthetic_recording.h"
#include "views/session/analysis.h"
#include "views/session/session_controller.h"

namespace {

constexpr int64_t kTokens = 100'000;

QString bench_trace() {
  if (const char* given = std::getenv("MOESCOPE_BENCH_TRACE")) return QString::fromLocal8Bit(given);
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

double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// Runs the event loop until `done` holds or 120 s pass.
template <typename F>
bool wait_for(F done) {
  QElapsedTimer t;
  t.start();
  while (!done() && t.elapsed() < 120000) {
    QEventLoop loop;
    QTimer::singleShot(1, &loop, &QEventLoop::quit);
    loop.exec();
  }
  return done();
}

// Runs the event loop until the process has used under 2 % of a core for 500 ms (the background
// panels are done), at most 120 s.
void wait_idle() {
  QElapsedTimer t;
  t.start();
  double cpu = cpu_seconds();
  while (t.elapsed() < 120000) {
    QEventLoop loop;
    QTimer::singleShot(500, &loop, &QEventLoop::quit);
    loop.exec();
    const double now = cpu_seconds();
    if (now - cpu < 0.01) return;
    cpu = now;
  }
}

// The longest wait of a 5 ms timer on the GUI thread; restart() after the bench's own work.
class GapMeter {
 public:
  GapMeter() {
    timer_.setInterval(5);
    QObject::connect(&timer_, &QTimer::timeout, [this] {
      max_ms_ = std::max(max_ms_, double(since_.nsecsElapsed()) / 1e6);
      since_.restart();
    });
    since_.start();
    timer_.start();
  }
  void restart() { since_.restart(); }
  double max_ms() const { return max_ms_; }

 private:
  QTimer timer_;
  QElapsedTimer since_;
  double max_ms_ = 0;
};

// The whole analysis: its last part, the LRU/OPT curves, is there.
bool analysis_complete(const moescope::views::AnalysisResult* a) {
  return a != nullptr && !a->lru_curves.global.hits[0].empty();
}

void BM_OpenTrace100k(benchmark::State& state) {
  const QString path = bench_trace();
  double first_ms = 0, all_ms = 0, gap_ms = 0, cpu_s = 0;
  for (auto _ : state) {
    moescope::gui::MainWindow window;
    window.resize(1600, 1000);
    window.show();
    QApplication::processEvents();
    moescope::views::SessionController* s = window.session();
    double first = -1;
    QElapsedTimer timer;
    GapMeter gaps;
    QObject::connect(s, &moescope::views::SessionController::analysisUpdated, &window, [&] {
      if (first >= 0 || s->run().analysis() == nullptr) return;
      (void)window.grab();  // paints every visible view with the first analysis
      first = double(timer.nsecsElapsed()) / 1e6;
      gaps.restart();
    });
    const double cpu0 = cpu_seconds();
    timer.start();
    gaps.restart();
    window.openTrace(path);
    if (!wait_for([s] { return s->run().routed_count() >= kTokens; })) {
      state.SkipWithError("the trace did not open");
      return;
    }
    (void)window.grab();  // paints every visible view with the run
    state.SetIterationTime(double(timer.nsecsElapsed()) / 1e9);
    gaps.restart();
    if (!wait_for([s] { return analysis_complete(s->run().analysis().get()); })) {
      state.SkipWithError("the analysis did not arrive");
      return;
    }
    gap_ms = std::max(gap_ms, gaps.max_ms());
    (void)window.grab();
    all_ms += double(timer.nsecsElapsed()) / 1e6;
    first_ms += first;
    wait_idle();
    cpu_s += cpu_seconds() - cpu0;
  }
  const double n = double(state.iterations());
  state.counters["first_charts_ms"] = benchmark::Counter(first_ms / n);
  state.counters["all_charts_ms"] = benchmark::Counter(all_ms / n);
  state.counters["max_gui_gap_ms"] = benchmark::Counter(gap_ms);
  state.counters["cpu_s"] = benchmark::Counter(cpu_s / n);
  state.counters["tokens"] = double(kTokens);
}
BENCHMARK(BM_OpenTrace100k)->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(1);

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
