// The workload views on small hand-built batched runs (no model, milliseconds): the step counting
// rule, the summaries, every item model under QAbstractItemModelTester while it grows and resets,
// the request filter, the request list driving the text view, the step timeline side by side,
// and reading a workload file.
#include <QAbstractItemModelTester>
#include <QComboBox>
#include <QFile>
#include <QLabel>
#include <QSignalSpy>
#include <QTableView>
#include <QTemporaryDir>
#include <QTextBrowser>
#include <QtTest>

#include <cmath>

#include "engine/common/error.h"
#include "views/batch/batch_controller.h"
#include "views/batch/batch_job.h"
#include "views/batch/batch_run.h"
#include "views/batch/request_filter_model.h"
#include "views/batch/request_list_model.h"
#include "views/batch/scheduler_compare_model.h"
#include "views/batch/step_accumulator.h"
#include "views/batch/step_layer_model.h"
#include "views/batch/step_table_model.h"
#include "views/batch/step_timeline_panel.h"
#include "views/batch/workload_panel.h"
#include "views/heatmap/heatmap_roles.h"
#include "views/heatmap/heatmap_view.h"
#include "views/session/session_controller.h"

using namespace moescope;
using namespace moescope::views;

namespace {

using Mode = QAbstractItemModelTester::FailureReportingMode;

// 2 MoE layers of 4 experts.
policy::MoeShape small_shape() {
  policy::MoeShape s;
  s.n_experts = {4, 4};
  s.top_k = {2, 2};
  s.expert_bytes = {100, 100};
  s.model_layer = {0, 1};
  return s;
}

std::vector<ExpertId> experts(std::initializer_list<int32_t> ids) {
  std::vector<ExpertId> out;
  for (int32_t e : ids) out.push_back(ExpertId(e));
  return out;
}

BatchStep step(int64_t id, int rows, std::vector<int32_t> distinct, std::vector<int32_t> max,
               std::vector<int32_t> routings, int64_t bytes) {
  BatchStep s;
  s.step = id;
  s.rows = rows;
  s.requests = rows;
  s.ms = 1.5;
  s.distinct = std::move(distinct);
  s.max_tokens = std::move(max);
  s.routings = std::move(routings);
  s.bytes = bytes;
  return s;
}

BatchRequest request(int64_t id, QString prompt, QString text, RequestState state, double ttft) {
  BatchRequest r;
  r.id = id;
  r.prompt = std::move(prompt);
  r.generated = std::move(text);
  r.state = state;
  r.prompt_tokens = 3;
  r.generated_tokens = int(r.generated.size());
  r.ttft_ms = ttft;
  r.tpot_ms = ttft < 0 ? -1 : 2.0;
  if (state == RequestState::kFinished) r.stop_reason = "length";
  return r;
}

// Two requests over two steps; the second scheduler's run takes three steps.
BatchRun small_run(const QString& scheduler) {
  BatchRun run;
  run.scheduler = scheduler;
  run.shape = small_shape();
  run.requests = {request(0, "the cat", " sat", RequestState::kFinished, 10),
                  request(1, "a dog", " ran far", RequestState::kFinished, 30)};
  run.steps = {step(0, 6, {3, 2}, {3, 4}, {12, 12}, 300), step(1, 2, {4, 2}, {1, 2}, {4, 4}, 100)};
  if (scheduler == "expert-aware") run.steps.push_back(step(2, 1, {2, 2}, {1, 1}, {2, 2}, 0));
  run.total_ms = 1000;
  run.complete = true;
  return run;
}

}  // namespace

class BatchViewsTest : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void accumulatorCountsAStep() {
    StepAccumulator acc(small_shape());
    acc.begin(7, 3);
    // Layer 0: expert 0 three times, 1 twice, 2 once; layer 1: 3 three times, 1 twice, 2 once.
    acc.add(0, experts({0, 1}));
    acc.add(0, experts({0, 2}));
    acc.add(0, experts({0, 1}));
    acc.add(1, experts({1, 3}));
    acc.add(1, experts({1, 3}));
    acc.add(1, experts({2, 3}));
    acc.add(1, experts({9}));  // out of range: ignored
    acc.add(5, experts({0}));  // no such layer: ignored
    const BatchStep s = acc.end();
    QCOMPARE(s.step, 7);
    QCOMPARE(s.rows, 3);
    QCOMPARE(s.distinct, (std::vector<int32_t>{3, 3}));
    QCOMPARE(s.max_tokens, (std::vector<int32_t>{3, 3}));
    QCOMPARE(s.routings, (std::vector<int32_t>{6, 6}));
    // max / mean over all 4 experts: 3 / (6 / 4) = 2.
    QCOMPARE(s.straggler(0, 4), 2.0);
    QCOMPARE(s.mean_distinct(), 3.0);
    // The next step starts from zero.
    acc.begin(8, 1);
    acc.add(0, experts({2}));
    const BatchStep t = acc.end();
    QCOMPARE(t.distinct, (std::vector<int32_t>{1, 0}));
    QCOMPARE(t.straggler(1, 4), 0.0);
  }

  void summaryIsHandDerived() {
    const BatchSummary s = small_run("fifo").summary();
    QCOMPARE(s.steps, 2);
    QCOMPARE(s.mean_distinct, (3 + 2 + 4 + 2) / 4.0);
    // Stragglers: 3/(12/4)=1, 4/(12/4)=4/3, 1/(4/4)=1, 2/(4/4)=2.
    QVERIFY(std::abs(s.mean_straggler - (1 + 4.0 / 3 + 1 + 2) / 4) < 1e-12);
    QCOMPARE(s.bytes, 400);
    QCOMPARE(s.generated_tokens, 4 + 8);
    QCOMPARE(s.tokens_per_s, 12.0);
    // p95 of {10, 30} by linear interpolation: 10 + 0.95 * 20.
    QCOMPARE(s.ttft_p95_ms, 29.0);
    BatchRun no_cache = small_run("fifo");
    for (BatchStep& st : no_cache.steps) st.bytes = -1;
    QCOMPARE(no_cache.summary().bytes, -1);
  }

  void requestModelAndFilter() {
    RequestListModel model;
    QAbstractItemModelTester tester(&model, Mode::QtTest);
    RequestFilterModel filter;
    filter.setSourceModel(&model);
    QAbstractItemModelTester filter_tester(&filter, Mode::QtTest);
    BatchRun run = small_run("fifo");
    run.requests[1].state = RequestState::kRunning;
    run.requests[1].ttft_ms = -1;
    model.setRequests(run.requests);
    QCOMPARE(model.rowCount(), 2);
    QCOMPARE(model.index(1, RequestListModel::kState).data().toString(), QString("running"));
    QCOMPARE(model.index(1, RequestListModel::kTtft).data().toString(), QString("—"));
    QCOMPARE(model.index(0, RequestListModel::kTokens).data().toString(), QString("3 + 4"));
    QCOMPARE(model.index(0, RequestListModel::kState).data().toString(),
             QString("finished (length)"));
    // A live update of the same requests changes cells in place.
    QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    run.requests[1].state = RequestState::kFinished;
    model.setRequests(run.requests);
    QCOMPARE(reset.size(), 0);
    QCOMPARE(changed.size(), 1);
    // Filters: prompt text, then states.
    filter.setPromptFilter("DOG");
    QCOMPARE(filter.rowCount(), 1);
    QCOMPARE(filter.index(0, RequestListModel::kId).data().toLongLong(), 1);
    filter.setPromptFilter({});
    run.requests[0].state = RequestState::kWaiting;
    model.setRequests(run.requests);
    filter.setStates(RequestFilterModel::States::kUnfinished);
    QCOMPARE(filter.rowCount(), 1);
    QCOMPARE(filter.index(0, RequestListModel::kId).data().toLongLong(), 0);
    filter.setStates(RequestFilterModel::States::kFinished);
    QCOMPARE(filter.rowCount(), 1);
    filter.setStates(RequestFilterModel::States::kAll);
    // Sorting by TTFT uses the raw numbers (-1, not known yet, sorts below every time).
    filter.sort(RequestListModel::kTtft, Qt::AscendingOrder);
    QCOMPARE(filter.index(0, RequestListModel::kId).data().toLongLong(), 1);
    filter.sort(RequestListModel::kTtft, Qt::DescendingOrder);
    QCOMPARE(filter.index(0, RequestListModel::kId).data().toLongLong(), 0);
    // Other requests reset the model.
    model.setRequests({run.requests[0]});
    QCOMPARE(reset.size(), 1);
    QCOMPARE(model.rowCount(), 1);
  }

  void stepModelsGrowAndReset() {
    StepTableModel steps;
    StepLayerModel layers;
    QAbstractItemModelTester t1(&steps, Mode::QtTest);
    QAbstractItemModelTester t2(&layers, Mode::QtTest);
    BatchRun run = small_run("fifo");
    BatchRun first = run;
    first.steps.resize(1);
    steps.setRun(first);
    layers.setRun(first);
    QCOMPARE(steps.rowCount(), 1);
    QCOMPARE(layers.rowCount(), 1);
    QCOMPARE(layers.columnCount(), 2);
    QSignalSpy inserted(&steps, &QAbstractItemModel::rowsInserted);
    steps.setRun(run);
    layers.setRun(run);
    QCOMPARE(inserted.size(), 1);
    QCOMPARE(steps.rowCount(), 2);
    QCOMPARE(steps.index(0, StepTableModel::kRows).data().toInt(), 6);
    QCOMPARE(steps.index(0, StepTableModel::kDistinct).data().toString(), QString("2.50"));
    // Worst layer of step 0: 4 / (12 / 4) = 1.33.
    QCOMPARE(steps.index(0, StepTableModel::kStraggler).data().toString(), QString("1.33"));
    QCOMPARE(steps.index(0, StepTableModel::kBytes).data().toString(), QString("300 bytes"));
    // Distinct experts coloured as a share of the layer's experts.
    QCOMPARE(layers.index(1, 0, {}).data(kRawValueRole).toDouble(), 4.0);
    QCOMPARE(layers.index(1, 0, {}).data(kValueRole).toDouble(), 1.0);
    QCOMPARE(layers.headerData(1, Qt::Vertical).toLongLong(), 1);
    layers.setMeasure(StepLayerModel::Measure::kStraggler);
    QCOMPARE(layers.index(1, 1, {}).data(kRawValueRole).toDouble(), 2.0);
    QCOMPARE(layers.index(1, 1, {}).data(kValueRole).toDouble(), 1.0);  // the run's largest
    QCOMPARE(layers.index(0, 0, {}).data(kValueRole).toDouble(), 0.5);
    // Another run with fewer steps resets both.
    steps.setRun(first);
    layers.setRun(first);
    QCOMPARE(steps.rowCount(), 1);
    QCOMPARE(layers.rowCount(), 1);
    SchedulerCompareModel compare;
    QAbstractItemModelTester t3(&compare, Mode::QtTest);
    compare.setRuns({small_run("fifo"), small_run("expert-aware")});
    QCOMPARE(compare.rowCount(), 2);
    QCOMPARE(compare.index(1, SchedulerCompareModel::kSteps).data().toLongLong(), 3);
    QCOMPARE(compare.index(0, SchedulerCompareModel::kBytes).data().toString(),
             QString("400 bytes"));
    compare.setRuns({small_run("fifo"), small_run("expert-aware")});  // in place
    compare.setRuns({});
    QCOMPARE(compare.rowCount(), 0);
  }

  void selectionDrivesTheText() {
    SessionController session;
    BatchController batch(&session);
    WorkloadPanel panel(&session, &batch);
    StepTimelinePanel timeline(&batch);
    batch.showRuns({small_run("fifo"), small_run("expert-aware")});
    QCOMPARE(panel.requestModel()->rowCount(), 2);
    QCOMPARE(panel.runChooser()->count(), 2);
    QVERIFY(panel.selectRequest(1));
    const QString text = panel.textView()->toPlainText();
    QVERIFY2(text.contains("a dog ran far"), qPrintable(text));
    QVERIFY(!text.contains("the cat"));
    QVERIFY(panel.selectRequest(0));
    QVERIFY(panel.textView()->toPlainText().contains("the cat sat"));
    // A filtered-out request cannot be selected.
    panel.filterModel()->setPromptFilter("cat");
    QVERIFY(!panel.selectRequest(1));
    // The timeline: one column per run, the comparison table above.
    QCOMPARE(timeline.columnCount(), 2);
    QCOMPARE(timeline.compareModel()->rowCount(), 2);
    QCOMPARE(timeline.stepModel(1)->rowCount(), 3);
    timeline.measureChooser()->setCurrentIndex(1);
    QVERIFY(timeline.layerModel(0)->measure() == StepLayerModel::Measure::kStraggler);
    timeline.show();
    timeline.heatmap(0)->grab();  // paints offscreen
    // A single run: one column.
    batch.showRuns({small_run("fifo")});
    QCOMPARE(timeline.columnCount(), 1);
    QVERIFY(!panel.runChooser()->isVisible());
  }

  void workloadFromTheForm() {
    SessionController session;
    BatchController batch(&session);
    WorkloadPanel panel(&session, &batch);
    panel.setPrompts({"one", "two"});
    panel.setMaxBatch(3);
    panel.setMaxNewTokens(5);
    panel.setSchedulers({"fifo", "expert-aware"});
    panel.setArrival("poisson:2.5", 7);
    const BatchWorkload w = panel.workload();
    QCOMPARE(w.prompts, (QStringList{"one", "two"}));
    QCOMPARE(w.max_batch, 3);
    QCOMPARE(w.max_new_tokens, 5);
    QCOMPARE(w.schedulers, (QStringList{"fifo", "expert-aware"}));
    QCOMPARE(w.arrival, QString("poisson:2.5"));
    QCOMPARE(w.arrival_seed, uint64_t(7));
    check_workload(w);
    // Without a model the controller refuses, with the reason.
    QSignalSpy failed(&batch, &BatchController::runFailed);
    QVERIFY(!batch.start(w));
    QCOMPARE(failed.size(), 1);
    BatchWorkload bad = w;
    bad.schedulers = {"random"};
    QVERIFY_THROWS_EXCEPTION(Error, check_workload(bad));
    bad = w;
    bad.arrival = "poisson:0";
    QVERIFY_THROWS_EXCEPTION(Error, check_workload(bad));
    bad = w;
    bad.prompts = {"a", ""};
    QVERIFY_THROWS_EXCEPTION(Error, check_workload(bad));
  }

  void workloadFiles() {
    QTemporaryDir dir;
    SessionController session;
    BatchController batch(&session);
    WorkloadPanel panel(&session, &batch);
    const QString good = dir.filePath("w.jsonl");
    {
      QFile f(good);
      QVERIFY(f.open(QIODevice::WriteOnly));
      f.write("{\"prompt\": \"alpha\"}\n\n{\"prompt\": \"beta \\u00e9\"}\n");
    }
    QVERIFY(panel.loadPrompts(good));
    QCOMPARE(panel.workload().prompts, (QStringList{"alpha", QString::fromUtf8("beta é")}));
    const QString bad = dir.filePath("bad.jsonl");
    {
      QFile f(bad);
      QVERIFY(f.open(QIODevice::WriteOnly));
      f.write("{\"prompt\": \"alpha\"}\n{\"text\": \"beta\"}\n");
    }
    QVERIFY(!panel.loadPrompts(bad));
    QVERIFY2(panel.message()->text().startsWith("bad.jsonl:2: no string"),
             qPrintable(panel.message()->text()));
    // The prompts stay as they were.
    QCOMPARE(panel.workload().prompts.size(), 2);
  }
};

QTEST_MAIN(BatchViewsTest)
#include "batch_views_test.moc"
