// The workload mode end to end in the real main window with the built-in model: a small workload
// (3 prompts, batch 2, FIFO and expert-aware side by side, offloading, recorded) runs on the
// engine thread while the GUI stays live, gives every request the text `moescope batch --json`
// prints for the same prompts, counts its steps as the engine ran them (every forwarded row
// routed to k experts per MoE layer), and reads back from its trace as the same requests and
// steps, bytes moved included; opening the trace in the window shows it in the workload views.
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTextBrowser>
#include <QtTest>

#include "app/gui/main_window.h"
#include "storage/trace_reader.h"
#include "tests/app/cli_runner.h"
#include "tests/views/test_support.h"
#include "views/batch/batch_controller.h"
#include "views/batch/batch_trace_loading.h"
#include "views/batch/request_list_model.h"
#include "views/batch/step_timeline_panel.h"
#include "views/batch/workload_panel.h"

using namespace moescope;
using namespace moescope::views;

namespace {

const QStringList kPrompts = {
    "It is a truth universally acknowledged, that",
    "In the beginning God created",
    "The hacker's dictionary defines a kludge as",
};

void compare_steps(const BatchRun& live, const BatchRun& read) {
  QCOMPARE(read.steps.size(), live.steps.size());
  for (size_t s = 0; s < live.steps.size(); ++s) {
    const BatchStep& a = live.steps[s];
    const BatchStep& b = read.steps[s];
    QCOMPARE(b.rows, a.rows);
    QCOMPARE(b.requests, a.requests);
    QCOMPARE(b.distinct, a.distinct);
    QCOMPARE(b.max_tokens, a.max_tokens);
    QCOMPARE(b.routings, a.routings);
    QCOMPARE(b.bytes, a.bytes);
  }
}

}  // namespace

class BatchGuiTest : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase() {
    QCoreApplication::setOrganizationName("MoEScope-batch-test");
    QSettings().clear();
  }

  void workloadEqualsTheCliAndItsTrace() {
    QTemporaryDir dir;
    const QString prompts_file = dir.filePath("prompts.txt");
    {
      QFile f(prompts_file);
      QVERIFY(f.open(QIODevice::WriteOnly));
      f.write(kPrompts.join('\n').toUtf8() + "\n");
    }
    const QString trace = dir.filePath("batch.sqlite");

    gui::MainWindow w;
    w.show();
    SessionController* s = w.session();
    QSignalSpy loaded(s, &SessionController::modelLoaded);
    w.openStartModel(QString());
    QVERIFY(loaded.wait(60000));
    const int k = s->model()->shape.top_k[0];
    RunSettings settings = views::test::quick_settings(QString(), 8);
    settings.trace_path = trace;  // recorded, offloading a quarter of the experts (LRU)
    s->setSettings(settings);

    WorkloadPanel* panel = w.workloadPanel();
    BatchController* batch = w.batchController();
    QVERIFY(panel->loadPrompts(prompts_file));
    panel->setMaxBatch(2);
    panel->setMaxNewTokens(8);
    panel->setSchedulers({"fifo", "expert-aware"});
    QSignalSpy finished(batch, &BatchController::runFinished);
    QSignalSpy failed(batch, &BatchController::runFailed);
    QSignalSpy updated(batch, &BatchController::runUpdated);
    QTest::mouseClick(panel->findChild<QPushButton*>("runWorkload"), Qt::LeftButton);
    // Running on the engine thread: the session is busy (no generation can start beside it) and
    // the GUI thread is free (this wait runs its event loop).
    QCOMPARE(s->state(), SessionController::State::kGenerating);
    QVERIFY(!s->generate());
    QVERIFY(finished.wait(240000));
    QCOMPARE(failed.size(), 0);
    QVERIFY(updated.size() > 0);
    QCOMPARE(s->state(), SessionController::State::kReady);
    const std::vector<BatchRun> live = batch->runs();
    QCOMPARE(live.size(), size_t(2));
    QCOMPARE(live[0].scheduler, QString("fifo"));
    QCOMPARE(live[1].scheduler, QString("expert-aware"));

    // The CLI on the same prompts, greedy, 8 new tokens, batch 2.
    const moescope::test::CliResult cli = moescope::test::run_moescope(
        {"batch", "--prompts", prompts_file.toStdString(), "--max-batch", "2", "-n", "8", "--temp",
         "0", "--threads", "1", "--json"});
    QVERIFY2(cli.exit_code == 0, cli.err.c_str());
    const QJsonArray want =
        QJsonDocument::fromJson(QByteArray::fromStdString(cli.out)).object()["requests"].toArray();
    QCOMPARE(want.size(), kPrompts.size());
    for (const BatchRun& run : live) {
      QVERIFY(run.complete);
      QCOMPARE(run.requests.size(), size_t(kPrompts.size()));
      int64_t rows = 0;
      for (qsizetype i = 0; i < want.size(); ++i) {
        const BatchRequest& r = run.requests[size_t(i)];
        QVERIFY(!r.generated.isEmpty());
        QCOMPARE(r.generated, want[i].toObject()["text"].toString());
        QCOMPARE(r.generated_tokens, want[i].toObject()["tokens"].toArray().size());
        QCOMPARE(r.prompt_tokens, want[i].toObject()["prompt_tokens"].toInt());
        QCOMPARE(r.state, RequestState::kFinished);
        QVERIFY(r.ttft_ms > 0);
        // Every token is forwarded but each request's last sampled one.
        rows += r.prompt_tokens + r.generated_tokens - 1;
      }
      int64_t step_rows = 0;
      for (const BatchStep& step : run.steps) {
        step_rows += step.rows;
        QVERIFY(step.requests >= 1 && step.requests <= 2);
        QVERIFY(step.bytes >= 0);  // offloading: the store's bytes
        for (size_t l = 0; l < step.routings.size(); ++l) {
          QCOMPARE(step.routings[l], step.rows * k);  // exact routing: k experts per row
          QVERIFY(step.distinct[l] >= 1 && step.distinct[l] <= step.rows * k);
          QVERIFY(step.max_tokens[l] >= 1 && step.max_tokens[l] <= step.rows);
        }
      }
      QCOMPARE(step_rows, rows);
    }
    QVERIFY(live[0].summary().bytes > 0);

    // The trace holds both runs: read back, the same requests and steps.
    std::vector<int64_t> ids;
    for (const storage::RunSummary& r : storage::TraceReader(trace.toStdString()).runs())
      ids.push_back(r.id);
    QCOMPARE(ids.size(), size_t(2));
    for (size_t r = 0; r < 2; ++r) {
      const std::optional<BatchRun> read = load_batch_run(trace.toStdString(), ids[r]);
      QVERIFY(read.has_value());
      QCOMPARE(read->scheduler, live[r].scheduler);
      QCOMPARE(read->requests.size(), live[r].requests.size());
      for (size_t i = 0; i < live[r].requests.size(); ++i) {
        QCOMPARE(read->requests[i].prompt, kPrompts[qsizetype(i)]);
        QCOMPARE(read->requests[i].generated, live[r].requests[i].generated);
        QCOMPARE(read->requests[i].prompt_tokens, live[r].requests[i].prompt_tokens);
        QCOMPARE(read->requests[i].generated_tokens, live[r].requests[i].generated_tokens);
      }
      compare_steps(live[r], *read);
    }

    // Opened in the window, the newest run shows in the workload views; selecting a request
    // shows its text.
    QSignalSpy shown(batch, &BatchController::traceShown);
    w.openTrace(trace);
    QVERIFY(shown.wait(60000));
    QCOMPARE(shown.first().at(2).toBool(), true);
    QCOMPARE(batch->runs().size(), size_t(1));
    QCOMPARE(w.stepTimelinePanel()->columnCount(), 1);
    QCOMPARE(panel->requestModel()->rowCount(), int(kPrompts.size()));
    QVERIFY(panel->selectRequest(2));
    const QString text = panel->textView()->toPlainText();
    QVERIFY2(text.startsWith(kPrompts[2]), qPrintable(text));
    QVERIFY(text.endsWith(want[2].toObject()["text"].toString()));
  }

  // Stop cancels before the next step: the run ends with its requests as far as they got, the
  // second scheduler's run never starts, and the engine is free again.
  void stopCancelsTheWorkload() {
    gui::MainWindow w;
    SessionController* s = w.session();
    QSignalSpy loaded(s, &SessionController::modelLoaded);
    w.openStartModel(QString());
    QVERIFY(loaded.wait(60000));
    s->setSettings(views::test::quick_settings(QString(), 1000));
    WorkloadPanel* panel = w.workloadPanel();
    BatchController* batch = w.batchController();
    panel->setPrompts(kPrompts);
    panel->setMaxBatch(1);  // one request at a time: the others wait
    panel->setMaxNewTokens(1000);
    panel->setSchedulers({"fifo", "expert-aware"});
    QSignalSpy finished(batch, &BatchController::runFinished);
    QSignalSpy failed(batch, &BatchController::runFailed);
    panel->run();
    QVERIFY(batch->running());
    QTRY_VERIFY_WITH_TIMEOUT(!batch->runs().empty() && batch->runs()[0].steps.size() >= 3, 60000);
    QTest::mouseClick(panel->findChild<QPushButton*>("stopWorkload"), Qt::LeftButton);
    QVERIFY(finished.wait(30000));
    QCOMPARE(failed.size(), 0);
    QVERIFY(!batch->running());
    QCOMPARE(s->state(), SessionController::State::kReady);
    const std::vector<BatchRun>& runs = batch->runs();
    QCOMPARE(runs.size(), size_t(2));
    QVERIFY(!runs[0].complete);
    int stopped = 0;
    for (const BatchRequest& r : runs[0].requests) stopped += r.state == RequestState::kStopped;
    QVERIFY(stopped >= 1);
    QVERIFY(runs[1].steps.empty());
    // The engine takes the next job: a generation runs.
    RunSettings short_run = s->settings();
    short_run.generation.max_new_tokens = 4;
    s->setSettings(short_run);
    QVERIFY(views::test::generate_and_wait(*s, 60000));
  }
};

QTEST_MAIN(BatchGuiTest)
#include "batch_gui_test.moc"
