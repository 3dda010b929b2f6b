// The Suitability panel: its item model passes QAbstractItemModelTester through a live run
// (resets as analyses arrive), the table shows exactly the engine's offloading_suitability of
// the run's routing, the analysis computes it off the GUI thread, and the texts are translated.
#include <QAbstractItemModelTester>
#include <QLabel>
#include <QThread>
#include <QtTest>

#include <cmath>

#include "engine/policy/synthetic_trace.h"
#include "tests/views/test_support.h"
#include "views/session/analysis.h"
#include "views/suitability/suitability_model.h"
#include "views/suitability/suitability_panel.h"

using namespace moescope;
using namespace moescope::views;

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
    QTRY_VERIFY_WITH_TIMEOUT(panel.model()->suitability() != nullptr, 5000);

    // The same function on the same routing and link, computed here independently.
    policy::RoutingTrace trace = s.run().routing_trace();
    trace.validate();
    policy::SuitabilityOptions options;
    options.link = policy::LinkModel::preset("sata-ssd");
    const policy::Suitability expected = policy::offloading_suitability(trace, options);
    const policy::Suitability& got = *panel.model()->suitability();
    QCOMPARE(got.link_name, std::string("sata-ssd"));
    QCOMPARE(got.windows, expected.windows);
    QCOMPARE(got.verdict, expected.verdict);
    QCOMPARE(got.break_even.hit_rate, expected.break_even.hit_rate);

    SuitabilityModel& m = *panel.model();
    QCOMPARE(m.rowCount(), int(expected.windows.size()) + 2);
    for (size_t i = 0; i < expected.windows.size(); ++i) {
      const int row = int(i);
      QCOMPARE(m.index(row, SuitabilityModel::kName).data(Qt::UserRole).toInt(),
               expected.windows[i]);
      QCOMPARE(m.index(row, SuitabilityModel::kSrp).data(Qt::UserRole).toDouble(),
               expected.srp[i].mean);
      QCOMPARE(m.index(row, SuitabilityModel::kAtK).data(Qt::UserRole).toDouble(),
               expected.capacities[0].sch[i].mean);
      QCOMPARE(m.index(row, SuitabilityModel::kAt2K).data(Qt::UserRole).toDouble(),
               expected.capacities[1].sch[i].mean);
    }
    const int lru = int(expected.windows.size());
    QCOMPARE(m.index(lru, SuitabilityModel::kAtK).data(Qt::UserRole).toDouble(),
             expected.capacities[0].lru);
    QCOMPARE(m.index(lru + 1, SuitabilityModel::kAt2K).data(Qt::UserRole).toDouble(),
             expected.capacities[1].belady);
    // Laws visible in the table: Belady bounds LRU and every SCH row at the same capacity.
    for (int col : {int(SuitabilityModel::kAtK), int(SuitabilityModel::kAt2K)}) {
      const double belady = m.index(lru + 1, col).data(Qt::UserRole).toDouble();
      for (int row = 0; row <= lru; ++row) {
        QVERIFY(m.index(row, col).data(Qt::UserRole).toDouble() <= belady);
      }
    }
    QVERIFY(panel.verdictLabel()->text().contains("sata-ssd"));
    QVERIFY(panel.detailsLabel()->text().contains("h*"));
  }

  void analysisComputesItOnTheWorker() {
    // analyse() is what the worker runs: it fills the suitability from the trace alone.
    const policy::RoutingTrace trace = policy::synthetic_trace(
        {.kind = policy::SyntheticSpec::Kind::kZipf, .n_tokens = 300, .seed = 9});
    CacheSettings settings;
    settings.link = "emmc";
    const auto result = analyse(trace, settings);
    QVERIFY(result->suitability);
    policy::SuitabilityOptions options;
    options.link = policy::LinkModel::preset("emmc");
    const policy::Suitability direct = policy::offloading_suitability(trace, options);
    QCOMPARE(result->suitability->capacities[1].lru, direct.capacities[1].lru);
    QCOMPARE(result->suitability->verdict_text, direct.verdict_text);
    // No link: judged for nvme.
    settings.link = "none";
    QCOMPARE(analyse(trace, settings)->suitability->link_name, std::string("nvme"));
  }
};

QTEST_MAIN(SuitabilityTest)
#include "suitability_test.moc"
