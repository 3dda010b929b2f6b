// A run recorded by the GUI into a trace and read back shows the same run: tokens, routing,
// stalls, the recorded cache settings, and the same analysis counters as live (which equal the
// expert store's). Two runs are compared token by token; a bad file fails with a message.
#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include "storage/trace_reader.h"
#include "tests/views/test_support.h"
#include "views/session/analysis.h"
#include "views/traces/run_compare_model.h"
#include "views/traces/run_list_model.h"
#include "views/traces/trace_loading.h"
#include "views/traces/trace_panel.h"

using namespace moescope;
using namespace moescope::views;

namespace {

struct Snapshot {
  std::vector<int32_t> ids;
  std::vector<std::vector<int32_t>> routing;  // [t * L + l] experts
  std::vector<std::vector<float>> weights;
  std::vector<int64_t> stall;
  policy::CacheReport chosen;
  std::optional<policy::CacheReport> live;
};

Snapshot snapshot(const SessionController& s) {
  Snapshot out;
  const RunData& run = s.run();
  for (int t = 0; t < run.token_count(); ++t) out.ids.push_back(run.token(t).id);
  for (int t = 0; t < run.routed_count(); ++t) {
    out.stall.push_back(run.stall_ns(t));
    for (int l = 0; l < run.n_layers(); ++l) {
      std::vector<int32_t> e;
      for (ExpertId x : run.experts(t, l)) e.push_back(x.value);
      out.routing.push_back(e);
      const auto w = run.weights(t, l);
      out.weights.emplace_back(w.begin(), w.end());
    }
  }
  out.chosen = run.analysis()->chosen()->report;
  out.live = s.live_decisions();
  return out;
}

}  // namespace

class TraceTest : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void recordedRunsReopenTheSameAndCompare() {
    QTemporaryDir dir;
    const QString path = dir.filePath("runs.sqlite");
    SessionController s;
    QVERIFY(test::load_model(s, test::reference_model("llama-moe-q8_0")));
    RunSettings settings = test::quick_settings("The quick brown fox", 24);
    settings.generation.sampling.temperature = 1.0f;
    settings.generation.sampling.seed = 1;
    settings.trace_path = path;
    settings.cache.link = "nvme";
    s.setSettings(settings);
    QVERIFY(test::generate_and_wait(s));
    QVERIFY(test::wait_analysis(s));
    const Snapshot first = snapshot(s);
    settings.generation.sampling.seed = 2;
    s.setSettings(settings);
    QVERIFY(test::generate_and_wait(s));
    QVERIFY(test::wait_analysis(s));
    const Snapshot second = snapshot(s);

    // What the writer recorded for the store's policy is what the store counted.
    storage::TraceReader reader(path.toStdString());
    const auto runs = reader.runs();
    QCOMPARE(int(runs.size()), 2);
    const int64_t run1 = runs[0].id, run2 = runs[1].id;
    QCOMPARE(runs[0].status, storage::RunStatus::kComplete);
    const auto policies = reader.policies(run1);
    QVERIFY(!policies.empty() && policies[0].primary);
    const policy::CacheReport recorded = reader.policy_report(run1, policies[0].id);
    QCOMPARE(recorded.phase[0], first.live->phase[0]);
    QCOMPARE(recorded.phase[1], first.live->phase[1]);

    // Reopened, the first run is the same run.
    QSignalSpy opened(&s, &SessionController::traceOpened);
    s.openTrace(path, run1);
    QVERIFY(opened.wait(20000));
    QVERIFY(test::wait_analysis(s));
    const Snapshot reread = snapshot(s);
    QCOMPARE(reread.ids, first.ids);
    QCOMPARE(reread.routing, first.routing);
    QCOMPARE(reread.weights, first.weights);
    QCOMPARE(reread.stall, first.stall);
    QCOMPARE(s.settings().cache.policy, QString("lru"));
    QVERIFY(s.settings().cache.compare.contains("lfu"));
    QCOMPARE(s.settings().cache.budget_percent, settings.cache.budget_percent);
    QCOMPARE(s.settings().cache.link, QString("nvme"));
    QCOMPARE(reread.chosen.phase[0], first.chosen.phase[0]);
    QCOMPARE(reread.chosen.phase[1], first.chosen.phase[1]);
    QCOMPARE(reread.chosen.token, first.chosen.token);

    // The two runs aligned by token.
    const RunComparison c = compare_trace_runs(path.toStdString(), run1, run2);
    int expected = -1;
    for (size_t i = 0; i < std::max(first.ids.size(), second.ids.size()); ++i) {
      const int32_t a = i < first.ids.size() ? first.ids[i] : -1;
      const int32_t b = i < second.ids.size() ? second.ids[i] : -1;
      if (a != b) {
        expected = int(i);
        break;
      }
    }
    QCOMPARE(c.first_divergent_token, expected);
    QVERIFY(c.first_divergent_token >= 0);  // different seeds at temperature 1
    QCOMPARE(c.rows[0].layers_differ, 0);   // the same prompt is routed the same way
    // Routing can only differ once the inputs do.
    QVERIFY(c.first_divergent_routing < 0 || c.first_divergent_routing >= expected);

    // The trace panel lists the runs and compares them; its models pass the tester.
    TracePanel panel(&s);
    using Mode = QAbstractItemModelTester::FailureReportingMode;
    QAbstractItemModelTester t1(panel.runsModel(), Mode::QtTest);
    QAbstractItemModelTester t2(panel.compareModel(), Mode::QtTest);
    QSignalSpy listed(&panel, &TracePanel::runsListed);
    panel.openTrace(path);
    QVERIFY(listed.wait(10000));
    QCOMPARE(panel.runsModel()->rowCount(), 2);
    QSignalSpy compared(&panel, &TracePanel::comparisonReady);
    panel.compareRuns(0, 1);
    QVERIFY(compared.wait(10000));
    QCOMPARE(panel.compareModel()->rowCount(), int(std::max(first.ids.size(), second.ids.size())));
    QCOMPARE(panel.compareModel()->comparison().first_divergent_token, expected);
  }

  void aBadTraceFailsWithAMessage() {
    SessionController s;
    QSignalSpy failed(&s, &SessionController::traceFailed);
    s.openTrace(QString(MOESCOPE_SOURCE_DIR) + "/CMakeLists.txt");
    QVERIFY(failed.wait(10000));
    QVERIFY(failed.first().at(1).toString().contains("CMakeLists.txt"));
    QCOMPARE(s.run().token_count(), 0);
  }
};

QTEST_MAIN(TraceTest)
#include "trace_test.moc"
