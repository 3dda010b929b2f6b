// A run recorded by the GUI into a trace and read back shows the same run: tokens, routing,
// stalls, the recorded cache settings, and the same analysis counters as live (which equal the
// expert store's). Two runs are compared token by token; a bad file fails with a message.
#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include "storage/synthetic_recording.h"
#include "storage/trace_reader.h"
#include "tests/views/test_support.h"
#include "views/session/analysis.h"
#include "views/session/trace_loading.h"
#include "views/traces/run_compare_model.h"
#include "views/traces/run_list_model.h"
#include "views/traces/trace_panel.h"

using namespace moescope;
using namespace moescope::views;

namespace {

struct Snapshot {
  std::vector<int32_t> ids;
  std::vector<std::vector<int32_t>> routing;  // [t * L + l] experts
  std::vector<std::vector<float>> weights;
  std::vector<int64_t> stall;
  std::vector<float> entropy;  // [t * L + l]
  std::vector<int> special;    // [t] SpecialKind
  bool entropy_from_topk = false;
  policy::CacheReport chosen;
  std::optional<policy::CacheReport> live;
};

Snapshot snapshot(const SessionController& s) {
  Snapshot out;
  const RunData& run = s.run();
  for (int t = 0; t < run.token_count(); ++t) {
    out.ids.push_back(run.token(t).id);
    out.special.push_back(int(run.token(t).special_kind));
  }
  out.entropy_from_topk = run.entropy_from_topk();
  for (int t = 0; t < run.routed_count(); ++t) {
    out.stall.push_back(run.stall_ns(t));
    for (int l = 0; l < run.n_layers(); ++l) out.entropy.push_back(run.entropy_bits(t, l));
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
    QVERIFY(test::open_trace(s, path, run1));
    const Snapshot reread = snapshot(s);
    QCOMPARE(reread.ids, first.ids);
    QCOMPARE(reread.routing, first.routing);
    QCOMPARE(reread.weights, first.weights);
    QCOMPARE(reread.stall, first.stall);
    // The window records the router logits: the same router entropy, not the top-k fallback.
    QVERIFY(!first.entropy_from_topk);
    QVERIFY(!reread.entropy_from_topk);
    QCOMPARE(reread.entropy.size(), first.entropy.size());
    for (size_t i = 0; i < first.entropy.size(); ++i) {
      QVERIFY2(std::abs(reread.entropy[i] - first.entropy[i]) < 1e-4f,
               qPrintable(QString("entropy %1: %2 live, %3 reread")
                              .arg(i)
                              .arg(first.entropy[i])
                              .arg(reread.entropy[i])));
    }
    // Control tokens (the BOS the prompt starts with) are badges again when reopened.
    QCOMPARE(reread.special, first.special);
    const int32_t bos = s.model()->tokenizer->vocab().special.bos;
    QVERIFY(bos >= 0 && first.ids[0] == bos);
    QCOMPARE(first.special[0], int(SpecialKind::kBos));
    QCOMPARE(s.run().token(0).text, QString::fromStdString(s.model()->tokenizer->token_piece(bos)));
    QCOMPARE(s.analysis_cache().policy, QString("lru"));
    QVERIFY(s.analysis_cache().compare.contains("lfu"));
    QCOMPARE(s.analysis_cache().budget_percent, settings.cache.budget_percent);
    QCOMPARE(s.analysis_cache().link, QString("nvme"));
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

  // Without router logits in the trace, the entropy is that of the normalised top-k weights,
  // and the run says so; with them, the full distribution's.
  void entropyFallsBackToTheTopKWeights() {
    QTemporaryDir dir;
    storage::SyntheticRecording what;
    what.spec.n_layers = 3;
    what.spec.n_experts = 8;
    what.spec.top_k = 2;
    what.spec.n_tokens = 40;
    what.spec.n_prefill = 8;
    const std::string without = dir.filePath("without.sqlite").toStdString();
    storage::write_synthetic_trace(without, what);
    const LoadedRun a = load_trace_run(without);
    RunData run;
    run.reset(a.shape);
    run.apply(a.data);
    QVERIFY(run.entropy_from_topk());
    QCOMPARE(run.max_entropy_bits(), 1.0);  // log2(top-2)
    int positive = 0;
    for (int t = 0; t < run.routed_count(); ++t) {
      for (int l = 0; l < run.n_layers(); ++l) {
        const auto w = run.weights(t, l);
        double sum = 0, h = 0;
        for (float x : w) sum += x;
        for (float x : w) h -= x > 0 ? (x / sum) * std::log2(x / sum) : 0.0;
        QVERIFY(std::abs(run.entropy_bits(t, l) - h) < 1e-5);
        QVERIFY(run.entropy_bits(t, l) <= 1.0f + 1e-5f);
        positive += h > 0.01;
      }
    }
    QVERIFY(positive > 0);

    // The synthetic logits are log(weight) for the selected experts and -30 elsewhere, so the
    // full distribution is (almost) the normalised top-k weights: the same entropies.
    what.writer.router_logits = true;
    const std::string with = dir.filePath("with.sqlite").toStdString();
    storage::write_synthetic_trace(with, what);
    const LoadedRun b = load_trace_run(with);
    RunData full;
    full.reset(b.shape);
    full.apply(b.data);
    QVERIFY(!full.entropy_from_topk());
    QCOMPARE(full.max_entropy_bits(), 3.0);  // log2(8 experts)
    for (int t = 0; t < full.routed_count(); ++t) {
      for (int l = 0; l < full.n_layers(); ++l) {
        QVERIFY(std::abs(full.entropy_bits(t, l) - run.entropy_bits(t, l)) < 1e-3f);
      }
    }
  }

  // The default model offloading with the next-gate prefetcher: the trace keeps the engine's
  // predictions, so the reopened run's analysis prefetches exactly as the live one (whose
  // counters equal the store's). The token kinds mark BOS without the model loaded.
  void aNextGateRunReopensWithTheSamePrefetches() {
    QTemporaryDir dir;
    const QString path = dir.filePath("next_gate.sqlite");
    SessionController s;
    QVERIFY(test::load_model(
        s, QString(MOESCOPE_SOURCE_DIR) + "/resources/models/moescope-default-q8_0.gguf"));
    RunSettings settings = test::quick_settings("The quick brown fox", 16);
    settings.cache.prefetcher = "next-gate";
    settings.cache.link = "nvme";
    settings.trace_path = path;
    s.setSettings(settings);
    QVERIFY(test::generate_and_wait(s));
    QVERIFY(test::wait_analysis(s));
    const Snapshot live = snapshot(s);
    QVERIFY(!s.run().gate_predictions().empty());
    QVERIFY(live.chosen.phase[1].prefetch_predicted > 0);
    QVERIFY(live.chosen.phase[1].prefetch_issued > 0);
    QVERIFY(live.live.has_value());
    QCOMPARE(live.chosen.phase[1], live.live->phase[1]);

    storage::TraceReader reader(path.toStdString());
    const int64_t run = reader.latest_run();
    QCOMPARE(reader.gate_prediction_map(run), s.run().gate_predictions());

    QVERIFY(test::open_trace(s, path, run));
    const Snapshot reread = snapshot(s);
    QCOMPARE(reread.routing, live.routing);
    QCOMPARE(s.analysis_cache().prefetcher, QString("next-gate"));
    QCOMPARE(reread.chosen.phase[0], live.chosen.phase[0]);
    QCOMPARE(reread.chosen.phase[1], live.chosen.phase[1]);
    QCOMPARE(reread.chosen.token, live.chosen.token);

    // The recorded kinds mark the control tokens without any model.
    const LoadedRun loaded = load_trace_run(path.toStdString(), run, nullptr);
    std::vector<int> kinds;
    for (const TokenInfo& t : loaded.data.tokens) kinds.push_back(int(t.special_kind));
    QCOMPARE(kinds, live.special);
    QCOMPARE(loaded.data.tokens[0].special_kind, SpecialKind::kBos);
    QVERIFY(loaded.data.tokens[0].special);
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
