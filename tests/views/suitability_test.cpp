// The Suitability panel: its item model passes QAbstractItemModelTester through a live run
// (resets as results arrive), the table shows exactly the engine's offloading_suitability of
// the run's routing with the run's measured layer compute, a reopened trace is judged as the
// report judges it, and the link falls back to nvme.
#include <QAbstractItemModelTester>
#include <QLabel>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QThread>
#include <QtTest>

#include <cmath>
#include <cstdio>

#include "engine/policy/synthetic_trace.h"
#include "storage/report/report_model.h"
#include "storage/trace_reader.h"
#include "tests/views/test_support.h"
#include "views/session/analysis.h"
#include "views/suitability/run_suitability.h"
#include "views/suitability/suitability_model.h"
#include "views/suitability/suitability_panel.h"

namespace {

using namespace moescope;
using namespace moescope::views;

// Waits until the panel shows the suitability of every routed token of the session's run.
bool wait_panel(const SessionController& s, const SuitabilityPanel& panel) {
  QElapsedTimer timer;
  timer.start();
  while (timer.elapsed() < 30000) {
    const auto& got = panel.suitability();
    if (got && got->tokens == s.run().routed_count() &&
        s.state() != SessionController::State::kGenerating)
      return true;
    QTest::qWait(20);
  }
  return false;
}

}  // namespace

class SuitabilityTest : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void modelMatchesTheEngineOnALiveRun() {
    SessionController s;
    SuitabilityPanel panel(&s);
    using Mode = QAbstractItemModelTester::FailureReportingMode;
    QAbstractItemModelTester tester(panel.model(), Mode::QtTest);
    QCOMPARE(panel.model()->rowCount(), 0);
    QVERIFY(!panel.verdictLabel()->text().isEmpty());  // "no analysis yet"

    QVERIFY(test::load_model(s, test::reference_model("llama-moe-q8_0")));
    RunSettings settings = test::quick_settings("The quick brown fox", 40);
    settings.cache.link = "sata-ssd";
    s.setSettings(settings);
    QVERIFY(test::generate_and_wait(s));
    QVERIFY(test::wait_analysis(s));
    QVERIFY(wait_panel(s, panel));
    QCOMPARE(panel.model()->suitability(), panel.suitability().get());

    // The same function on the same routing, compute and link, computed here independently.
    policy::RoutingTrace trace = s.run().routing_trace_with_compute();
    trace.validate();
    policy::SuitabilityOptions options;
    options.link = policy::LinkModel::preset("sata-ssd");
    const policy::Suitability expected = policy::offloading_suitability(trace, options);
    const policy::Suitability& got = *panel.model()->suitability();
    QCOMPARE(got.link_name, std::string("sata-ssd"));
    QCOMPARE(got.windows, expected.windows);
    QCOMPARE(got.verdict, expected.verdict);
    QCOMPARE(got.break_even.hit_rate, expected.break_even.hit_rate);
    QCOMPARE(got.break_even.compute_origin, policy::ComputeOrigin::kMeasured);

    SuitabilityModel& m = *panel.model();
    QCOMPARE(m.rowCount(), int(expected.windows.size()) + 2);
    for (size_t i = 0; i < expected.windows.size(); ++i) {
      const int row = int(i);
      QCOMPARE(m.index(row, SuitabilityModel::kName).data(Qt::UserRole).toInt(),
               expected.windows[i]);
      QCOMPARE(m.index(row, SuitabilityModel::kSrp).data(Qt::UserRole).toDouble(),
               expected.srp[i].model);
      QCOMPARE(m.index(row, SuitabilityModel::kAtK).data(Qt::UserRole).toDouble(),
               expected.capacities[0].sch[i].model);
      QCOMPARE(m.index(row, SuitabilityModel::kAt2K).data(Qt::UserRole).toDouble(),
               expected.capacities[1].sch[i].model);
    }
    const int lru = int(expected.windows.size());
    QCOMPARE(m.index(lru, SuitabilityModel::kAtK).data(Qt::UserRole).toDouble(),
             expected.capacities[0].lru_global);
    QCOMPARE(m.index(lru + 1, SuitabilityModel::kAt2K).data(Qt::UserRole).toDouble(),
             expected.capacities[1].opt_global);
    // Laws visible in the table: OPT bounds LRU and every SCH row at the same capacity.
    for (int col : {int(SuitabilityModel::kAtK), int(SuitabilityModel::kAt2K)}) {
      const double belady = m.index(lru + 1, col).data(Qt::UserRole).toDouble();
      for (int row = 0; row <= lru; ++row) {
        QVERIFY(m.index(row, col).data(Qt::UserRole).toDouble() <= belady);
      }
    }
    QVERIFY(panel.verdictLabel()->text().contains("sata-ssd"));
    QVERIFY(panel.detailsLabel()->text().contains("h*"));
  }

  // The default model, offloading, recorded to a trace: the panel judges with the compute the
  // run measured (the MoE layers' share of the decode time), its h* is break_even's on that
  // compute, and the reopened trace gets the report's numbers and the same verdict.
  void theDefaultModelIsJudgedWithMeasuredCompute() {
    QTemporaryDir dir;
    const QString path = dir.filePath("suitability.sqlite");
    SessionController s;
    SuitabilityPanel panel(&s);
    QVERIFY(test::load_model(
        s, QString(MOESCOPE_SOURCE_DIR) + "/resources/models/moescope-default-q8_0.gguf"));
    RunSettings settings = test::quick_settings("The quick brown fox", 24);
    settings.trace_path = path;
    s.setSettings(settings);
    QVERIFY(test::generate_and_wait(s));
    QVERIFY(test::wait_analysis(s));
    QVERIFY(wait_panel(s, panel));
    QVERIFY(s.run().has_compute());

    const policy::Suitability live = *panel.suitability();
    const policy::BreakEven& b = live.break_even;
    QCOMPARE(b.compute_origin, policy::ComputeOrigin::kMeasured);
    QVERIFY(panel.detailsLabel()->text().contains("measured"));
    QVERIFY(!panel.detailsLabel()->text().contains("assumed"));
    // Compute excludes the blocks before the first MoE layer, sampling and stall, so it is a
    // part of the decode time per token, and not a vanishing one.
    const GenerationStats& stats = s.last_stats();
    QVERIFY(stats.n_decoded > 0);
    const double decode_ns = 1e6 * stats.decode_ms / stats.n_decoded;
    std::printf("compute %.3f ms/token, decode %.3f ms/token, h* %.4f on %s: %s\n",
                b.compute_ns_per_token / 1e6, decode_ns / 1e6, b.hit_rate, live.link_name.c_str(),
                live.verdict_text.c_str());
    QVERIFY(b.compute_ns_per_token > 0.1 * decode_ns);
    QVERIFY(b.compute_ns_per_token <= decode_ns);
    // h* is break_even's on the same trace with that compute.
    policy::RoutingTrace trace = s.run().routing_trace_with_compute();
    trace.validate();
    const std::vector<int64_t> compute = policy::measured_decode_compute(trace);
    QCOMPARE(compute, b.compute_ns);
    const policy::BreakEven direct = policy::break_even(
        trace.shape, policy::LinkModel::preset("nvme"), compute, policy::ComputeOrigin::kMeasured);
    QCOMPARE(b.hit_rate, direct.hit_rate);
    QCOMPARE(b.compute_ns_per_token, direct.compute_ns_per_token);
    QCOMPARE(live.link_name, std::string("nvme"));  // the run emulated no link

    // Reopened: the trace's own layer timings, judged as the report judges them.
    QSignalSpy opened(&s, &SessionController::traceOpened);
    s.openTrace(path);
    QVERIFY(opened.wait(20000));
    QVERIFY(test::wait_analysis(s));
    QVERIFY(wait_panel(s, panel));
    const policy::Suitability& reread = *panel.suitability();
    storage::TraceReader reader(path.toStdString());
    const storage::report::SuitabilityInputs in =
        storage::report::suitability_inputs(reader, reader.latest_run());
    const policy::Suitability report = policy::offloading_suitability(in.trace, in.options);
    QCOMPARE(reread.break_even.compute_origin, policy::ComputeOrigin::kMeasured);
    QCOMPARE(reread.break_even.compute_ns, report.break_even.compute_ns);
    QCOMPARE(reread.break_even.hit_rate, report.break_even.hit_rate);
    QCOMPARE(reread.verdict, report.verdict);
    // Both measured the same forward calls: the same verdict as live.
    QCOMPARE(reread.verdict, live.verdict);
  }

  void runSuitabilityFallsBackToNvme() {
    const policy::RoutingTrace trace = policy::synthetic_trace(
        {.kind = policy::SyntheticSpec::Kind::kZipf, .n_tokens = 300, .seed = 9});
    const auto got = run_suitability(trace, "emmc");
    QVERIFY(got);
    policy::SuitabilityOptions options;
    options.link = policy::LinkModel::preset("emmc");
    const policy::Suitability direct = policy::offloading_suitability(trace, options);
    QCOMPARE(got->capacities[1].lru, direct.capacities[1].lru);
    QCOMPARE(got->verdict_text, direct.verdict_text);
    // No compute in the trace: the placeholder, flagged as assumed.
    QCOMPARE(got->break_even.compute_origin, policy::ComputeOrigin::kAssumed);
    // No link: judged for nvme.
    QCOMPARE(run_suitability(trace, "none")->link_name, std::string("nvme"));
    QVERIFY(!run_suitability(policy::RoutingTrace{}, "nvme"));
  }
};

QTEST_MAIN(SuitabilityTest)
#include "suitability_test.moc"
