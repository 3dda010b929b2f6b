// The heatmap and policy item models, checked by QAbstractItemModelTester through a whole live
// run (resets, appended rows, data changes), and their values against the run data.
#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QtTest>

#include <cmath>

#include "tests/views/test_support.h"
#include "views/charts/line_chart.h"
#include "views/charts/policy_comparison_panel.h"
#include "views/charts/policy_series.h"
#include "views/charts/policy_table_model.h"
#include "views/common/model_texts.h"
#include "views/heatmap/heatmap_roles.h"
#include "views/heatmap/layer_expert_model.h"
#include "views/heatmap/token_expert_model.h"
#include "views/session/analysis.h"

using namespace moescope;
using namespace moescope::views;

class ModelsTest : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void modelsPassTheTesterAndMatchTheRun() {
    SessionController s;
    LayerExpertModel layer_expert(&s);
    TokenExpertModel token_expert(&s);
    PolicyTableModel policies(&s);
    using Mode = QAbstractItemModelTester::FailureReportingMode;
    QAbstractItemModelTester t1(&layer_expert, Mode::QtTest);
    QAbstractItemModelTester t2(&token_expert, Mode::QtTest);
    QAbstractItemModelTester t3(&policies, Mode::QtTest);

    QVERIFY(test::load_model(s, test::reference_model("llama-moe-q8_0")));
    QCOMPARE(layer_expert.rowCount(), 4);
    QCOMPARE(layer_expert.columnCount(), 8);
    RunSettings settings = test::quick_settings("The quick brown fox", 40);
    settings.cache.link = "nvme";
    s.setSettings(settings);
    QSignalSpy inserted(&token_expert, &QAbstractItemModel::rowsInserted);
    QVERIFY(test::generate_and_wait(s));
    QVERIFY(!inserted.isEmpty());  // rows arrived while the run was live
    QTRY_VERIFY_WITH_TIMEOUT(
        s.run().analysis() && s.run().analysis()->complete() &&
            s.run().analysis()->n_tokens == s.run().routed_count(), 20000);

    const RunData& run = s.run();
    // Layer x expert: activation counts add up to k per routed token and layer.
    for (int l = 0; l < run.n_layers(); ++l) {
      double sum = 0;
      for (int e = 0; e < run.n_experts(l); ++e) {
        const QModelIndex idx = layer_expert.index(l, e);
        sum += idx.data(kRawValueRole).toDouble();
        const double v = idx.data(kValueRole).toDouble();
        QVERIFY(v >= 0 && v <= 1);
      }
      QCOMPARE(sum, 2.0 * run.routed_count());
    }
    // Hit rate per expert agrees with the analysis' per-key counts, and residency is a share.
    const AnalysisResult& a = *run.analysis();
    layer_expert.setMeasure(LayerExpertModel::Measure::kHitRate);
    int64_t hits = 0;
    for (int l = 0; l < run.n_layers(); ++l) {
      for (int e = 0; e < run.n_experts(l); ++e) {
        const double rate = layer_expert.index(l, e).data(kRawValueRole).toDouble();
        const size_t k = run.key(l, e);
        if (a.key_accesses[k] == 0) {
          QVERIFY(std::isnan(rate));
        } else {
          hits += int64_t(std::llround(rate * double(a.key_accesses[k])));
        }
      }
    }
    QCOMPARE(hits, a.chosen()->report.total().hits);
    layer_expert.setMeasure(LayerExpertModel::Measure::kResidency);
    double resident = 0;
    for (int l = 0; l < run.n_layers(); ++l) {
      for (int e = 0; e < run.n_experts(l); ++e) {
        const double share = layer_expert.index(l, e).data(kRawValueRole).toDouble();
        QVERIFY(share >= 0 && share <= 1);
        resident += share;
      }
    }
    // At most the budget is resident at any time: the mean number of resident experts is bounded.
    QVERIFY(resident <= double(a.budget_slots) + 1e-9);
    QVERIFY(resident > 0);

    // Token x expert: one row per routed token, weights where the token selected the expert.
    QCOMPARE(token_expert.rowCount(), run.routed_count());
    QCOMPARE(token_expert.columnCount(), run.n_experts(0));
    for (int t = 0; t < run.routed_count(); ++t) {
      double row_sum = 0;
      int marks = 0;
      for (int e = 0; e < token_expert.columnCount(); ++e) {
        const QModelIndex idx = token_expert.index(t, e);
        row_sum += idx.data(kRawValueRole).toDouble();
        marks += idx.data(kMarkRole).toBool();
      }
      QVERIFY(std::abs(row_sum - 1.0) < 1e-4);  // top-2 weights, renormalised
      QVERIFY(marks <= 2);
    }
    // Changing the shared layer re-targets the model.
    s.selection()->setLayer(3);
    QCOMPARE(token_expert.layer(), 3);
    QCOMPARE(token_expert.rowCount(), run.routed_count());
    s.selection()->setToken(run.prompt_count());
    QVERIFY(token_expert.index(run.prompt_count(), 0).data(kHighlightRole).toBool());

    // Policy table: the chosen policy, the compared ones, the two bounds.
    QCOMPARE(policies.rowCount(), int(a.policies.size()));
    QCOMPARE(policies.rowCount(), 5);
    QCOMPARE(policies.index(0, PolicyTableModel::kPolicy).data().toString(), QString("lru"));
    QCOMPARE(policies.index(3, PolicyTableModel::kPolicy).data().toString(),
             QString("belady-bypass"));

    // A language switch asks every attached view to read headers and cells again: the signals
    // it sends are valid for the tester, and the table view is told about every cell.
    QSignalSpy changed(&policies, &QAbstractItemModel::dataChanged);
    for (QAbstractItemModel* m :
         std::initializer_list<QAbstractItemModel*>{&layer_expert, &token_expert, &policies}) {
      retranslate_model(*m);
    }
    QCOMPARE(changed.size(), 1);
    QCOMPARE(changed[0][0].toModelIndex(), policies.index(0, 0));
    QCOMPARE(changed[0][1].toModelIndex(),
             policies.index(policies.rowCount() - 1, policies.columnCount() - 1));
  }
  // The default model with next-gate prefetching: the on-demand oracle references are drawn
  // beside prefetching policies, so the chart legends and the table may call one a "bound" only
  // if no policy beside it is better at any token (hit rate, bytes loaded, stall).
  void noBoundIsBelowAPolicyBesideIt() {
    SessionController s;
    QVERIFY(test::load_model(s, MOESCOPE_SOURCE_DIR "/resources/models/moescope-default-q8_0.gguf"));
    RunSettings settings = test::quick_settings("Once upon a time", 32);
    settings.cache.prefetcher = "next-gate";
    settings.cache.compare = {"lru", "fifo", "opt"};
    settings.cache.bounds = true;
    s.setSettings(settings);
    QVERIFY(test::generate_and_wait(s));
    QVERIFY(test::wait_analysis(s));
    const AnalysisResult& a = *s.run().analysis();
    QVERIFY(a.chosen()->report.phase[1].prefetch_used > 0);  // the prefetcher did turn misses
    PolicyComparisonPanel panel(&s);
    const int first = s.run().prompt_count();
    const QList<QPair<LineChart*, CumulativeMeasure>> charts = {
        {panel.hitRateChart(), CumulativeMeasure::kHitRate},
        {panel.bytesChart(), CumulativeMeasure::kBytes},
        {panel.stallChart(), CumulativeMeasure::kStallMs}};
    int bounds_drawn = 0, references = 0;
    for (const auto& [chart, measure] : charts) {
      QCOMPARE(chart->seriesCount(), int(a.policies.size()));
      for (int i = 0; i < chart->seriesCount(); ++i) {
        const PolicyRun& ref = a.policies[size_t(i)];
        QVERIFY(chart->seriesName(i).startsWith(QString::fromStdString(ref.spec)));
        references += ref.role == PolicyRun::Role::kBound;
        if (!chart->seriesName(i).contains("(bound)")) continue;
        ++bounds_drawn;
        const QVector<QPointF> bound = cumulative_series(ref.report, first, measure);
        for (const PolicyRun& other : a.policies) {
          const QVector<QPointF> p = cumulative_series(other.report, first, measure);
          QCOMPARE(p.size(), bound.size());
          for (int t = 0; t < p.size(); ++t) {
            const bool ok = measure == CumulativeMeasure::kHitRate ? bound[t].y() >= p[t].y()
                                                                   : bound[t].y() <= p[t].y();
            QVERIFY2(ok, qPrintable(chart->seriesName(i) + " below " +
                                    QString::fromStdString(other.spec)));
          }
        }
      }
    }
    QVERIFY(references > 0);
    // The table says "bound" for exactly the runs the charts call one.
    int table_bounds = 0;
    for (int row = 0; row < panel.tableModel()->rowCount(); ++row) {
      table_bounds +=
          panel.tableModel()->index(row, PolicyTableModel::kRole).data().toString() == "bound";
    }
    QCOMPARE(table_bounds * 3, bounds_drawn);
  }

};

QTEST_MAIN(ModelsTest)
#include "models_test.moc"
