// Drives the real main window on the offscreen platform: it opens the default model (or a
// reference model standing in for it), generates through the Generate button, stops with the
// Stop button, selects a token by clicking it, and checks that every view received the run.
#include <QCheckBox>
#include <QComboBox>
#include <QDockWidget>
#include <QFile>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QSlider>
#include <QSpinBox>
#include <QStandardItemModel>
#include <QTemporaryDir>
#include <QTreeWidget>
#include <QtTest>

#include "app/gui/main_window.h"
#include "app/gui/theme.h"
#include "engine/common/error.h"
#include "engine/policy/prefetcher.h"
#include "tests/views/test_support.h"
#include "views/affinity/affinity_graph_view.h"
#include "views/affinity/affinity_panel.h"
#include "views/charts/capacity_curves_panel.h"
#include "views/charts/line_chart.h"
#include "views/charts/policy_comparison_panel.h"
#include "views/heatmap/heatmap_roles.h"
#include "views/heatmap/heatmap_view.h"
#include "views/heatmap/layer_expert_model.h"
#include "views/heatmap/layer_expert_panel.h"
#include "views/heatmap/token_expert_model.h"
#include "views/heatmap/token_expert_panel.h"
#include "views/model/model_panel.h"
#include "views/prompt/prompt_panel.h"
#include "views/session/analysis.h"
#include "views/status/run_status.h"
#include "views/text/text_panel.h"
#include "views/text/token_text_view.h"
#include "views/traces/run_list_model.h"
#include "views/traces/run_compare_model.h"
#include "views/traces/trace_panel.h"
#include "storage/synthetic_recording.h"
#include <QMenu>
#include <QPlainTextEdit>
#include <QProgressBar>

using namespace moescope;
using namespace moescope::views;

class MainWindowTest : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase() {
    QCoreApplication::setOrganizationName("MoEScope-test");
    QSettings().clear();
    // The built-in model when it is there, else a reference model in its place.
    const QString builtin =
        QString(MOESCOPE_SOURCE_DIR) + "/resources/models/moescope-default-q8_0.gguf";
    if (!QFile::exists(builtin))
      qputenv("MOESCOPE_MODEL", test::reference_model("llama-moe-q8_0").toUtf8());
  }

  void generateStopSelectAndEveryViewHasTheRun() {
    gui::MainWindow w;
    w.show();
    SessionController* s = w.session();
    QSignalSpy loaded(s, &SessionController::modelLoaded);
    w.openStartModel(QString());
    QVERIFY(loaded.wait(30000));
    QVERIFY(w.modelPanel()->summaryTree()->topLevelItemCount() > 5);
    const int n_layers = s->model()->shape.n_layers();
    const int k = s->model()->shape.top_k[0];

    // Settings through the panel's widgets: run until stopped, over a slow link.
    w.findChild<QSpinBox*>("maxTokens")->setValue(-1);
    w.findChild<QComboBox*>("link")->setCurrentText("emmc");
    w.findChild<QSpinBox*>("budgetPercent")->setValue(13);
    QCOMPARE(s->settings().generation.max_new_tokens, -1);
    QCOMPARE(s->settings().cache.link, QString("emmc"));
    w.promptPanel()->editor()->setPlainText("It is a truth universally acknowledged");

    QSignalSpy finished(s, &SessionController::runFinished);
    QTest::mouseClick(w.promptPanel()->generateButton(), Qt::LeftButton);
    QCOMPARE(s->state(), SessionController::State::kGenerating);
    QCOMPARE(s->settings().prompt, QString("It is a truth universally acknowledged"));
    QTRY_VERIFY_WITH_TIMEOUT(s->run().token_count() >= s->run().prompt_count() + 12, 30000);
    QVERIFY(w.promptPanel()->stopButton()->isEnabled());
    QTest::mouseClick(w.promptPanel()->stopButton(), Qt::LeftButton);
    QVERIFY(finished.wait(10000));
    QCOMPARE(s->last_stats().stop_reason, StopReason::kCancelled);
    QTRY_VERIFY_WITH_TIMEOUT(
        s->run().analysis() && s->run().analysis()->complete() &&
            s->run().analysis()->n_tokens == s->run().routed_count(), 20000);
    const RunData& run = s->run();

    // Select a generated token by clicking it in the text.
    TokenTextView* text = w.textPanel()->textView();
    QCOMPARE(text->laidOutTokens(), run.token_count());
    const int t = run.prompt_count() + 3;
    const QRect r = text->tokenRect(t);
    QVERIFY(r.isValid());
    QTest::mouseClick(text->viewport(), Qt::LeftButton, {}, r.center());
    QCOMPARE(s->selection()->token(), t);
    QVERIFY(text->routingTooltip(t).contains("<table"));
    // The prompt's BOS is a control token: named, and its tooltip says what it is.
    QVERIFY(run.token(0).special);
    QCOMPARE(run.token(0).id, s->model()->tokenizer->vocab().special.bos);
    QVERIFY(text->routingTooltip(0).contains("(BOS)"));
    QVERIFY(!text->routingTooltip(t).contains("(BOS)"));
    QCOMPARE(text->routingTooltip(t).count("<tr>"), n_layers + 1);

    // Layer x expert: the selected token's path is highlighted, one cell per selected expert.
    LayerExpertModel* le = w.layerExpertPanel()->model();
    int highlighted = 0;
    double activations = 0;
    for (int l = 0; l < le->rowCount(); ++l) {
      for (int e = 0; e < le->columnCount(); ++e) {
        highlighted += le->index(l, e).data(kHighlightRole).toBool();
        activations += le->index(l, e).data(kRawValueRole).toDouble();
      }
    }
    QCOMPARE(highlighted, n_layers * k);
    QCOMPARE(activations, double(run.routed_count()) * n_layers * k);
    // Clicking a cell selects that expert everywhere.
    HeatmapView* le_view = w.layerExpertPanel()->view();
    QTest::mouseClick(le_view->viewport(), Qt::LeftButton, {}, le_view->cellRect(1, 2).center());
    QCOMPARE(s->selection()->layer(), 1);
    QCOMPARE(s->selection()->expert(), 2);

    // Token x expert follows the shared layer and highlights the token's row.
    TokenExpertModel* te = w.tokenExpertPanel()->model();
    QCOMPARE(te->layer(), 1);
    QCOMPARE(te->rowCount(), run.routed_count());
    QVERIFY(te->index(t, 0).data(kHighlightRole).toBool());

    // Affinity graph: edges above a zero threshold, and the token's path between layers.
    w.affinityPanel()->thresholdSlider()->setValue(0);
    AffinityGraphView* graph = w.affinityPanel()->graph();
    QVERIFY(graph->visibleEdges() > 0);
    QCOMPARE(graph->highlightedEdges(), (n_layers - 1) * k * k);
    const QPointF node = graph->nodePos(2, 0);
    QTest::mouseClick(graph, Qt::LeftButton, {}, node.toPoint());
    QCOMPARE(s->selection()->layer(), 2);
    QCOMPARE(s->selection()->expert(), 0);

    // Policy comparison: a line per policy that ran (chosen, compared, bounds) on every chart.
    const auto& a = *run.analysis();
    int ok = 0;
    for (const PolicyRun& p : a.policies) ok += p.error.empty();
    QVERIFY(ok >= 3);
    for (LineChart* chart : {w.policyPanel()->hitRateChart(), w.policyPanel()->bytesChart(),
                             w.policyPanel()->stallChart()}) {
      QCOMPARE(chart->seriesCount(), ok);
      QCOMPARE(chart->pointCount(0), run.routed_count() - run.prompt_count());
    }
    // Capacity curves: LRU and OPT per layer and pooled, plus the budget marker.
    QCOMPARE(w.curvesPanel()->chart()->seriesCount(), 5);
    QVERIFY(w.curvesPanel()->chart()->pointCount(0) > 2);

    // Status bar.
    const RunFigures& f = w.runStatus()->figures();
    QVERIFY(f.tokens_per_second > 0);
    QVERIFY(f.hit_rate >= 0 && f.hit_rate <= 1);
    QVERIFY(f.stall_share >= 0 && f.stall_share <= 1);
    QVERIFY(f.stall_measured);  // offloading was on: the store measured the waits
  }

  // Every prefetcher the engine knows is offered: those that run live enabled, those that need a
  // fitted trace disabled with a tooltip saying why. The engine's own list comes from its error
  // message for an unknown name.
  void settingsOfferEveryPrefetcher() {
    QStringList engine;
    try {
      policy::make_prefetcher("no-such-prefetcher", {});
    } catch (const Error& e) {
      const QString what = QString::fromUtf8(e.what());
      const QString list = what.section('(', -1).section(')', 0, 0);
      for (const QString& n : list.split(',')) engine << n.trimmed();
    }
    QVERIFY2(engine.size() >= 6, qPrintable(engine.join(",")));
    gui::MainWindow w;
    auto* combo = w.findChild<QComboBox*>("prefetcher");
    auto* model = qobject_cast<QStandardItemModel*>(combo->model());
    QVERIFY(model);
    for (const QString& name : engine) {
      bool offered = false;
      for (int i = 0; i < combo->count(); ++i) {
        const QString spec = combo->itemText(i);
        if (spec.section(':', 0, 0) != name) continue;
        offered = true;
        bool live = true;
        try {
          policy::make_prefetcher(spec.toStdString(), {});
        } catch (const Error&) {
          live = false;
        }
        QCOMPARE(model->item(i)->isEnabled(), live);
        const QString tip = combo->itemData(i, Qt::ToolTipRole).toString();
        QVERIFY2(!tip.isEmpty(), qPrintable(spec));
        if (!live) QVERIFY2(tip.contains("Unavailable"), qPrintable(tip));
      }
      QVERIFY2(offered, qPrintable(name));
    }
  }

  void recordedRunReopensInTheWindow() {
    QTemporaryDir dir;
    const QString trace = dir.filePath("window.sqlite");
    gui::MainWindow w;
    w.show();
    SessionController* s = w.session();
    QSignalSpy loaded(s, &SessionController::modelLoaded);
    w.openStartModel(QString());
    QVERIFY(loaded.wait(30000));
    w.findChild<QSpinBox*>("maxTokens")->setValue(8);
    w.findChild<QLineEdit*>("recordPath")->setText(trace);
    w.findChild<QCheckBox*>("recordTrace")->setChecked(true);
    QCOMPARE(s->settings().trace_path, trace);
    QSignalSpy finished(s, &SessionController::runFinished);
    QTest::mouseClick(w.promptPanel()->generateButton(), Qt::LeftButton);
    QVERIFY(finished.wait(30000));
    const int tokens = s->run().token_count();
    const int routed = s->run().routed_count();

    QSignalSpy opened(s, &SessionController::traceOpened);
    QSignalSpy failed(s, &SessionController::traceFailed);
    QSignalSpy listed(w.tracePanel(), &TracePanel::runsListed);
    w.openTrace(trace);
    QVERIFY(listed.wait(10000));
    QCOMPARE(w.tracePanel()->runsModel()->rowCount(), 1);
    QTRY_VERIFY_WITH_TIMEOUT(opened.size() + failed.size() > 0, 10000);
    QVERIFY2(failed.isEmpty(), qPrintable(failed.value(0).value(1).toString()));
    QCOMPARE(s->run().token_count(), tokens);
    QCOMPARE(s->run().routed_count(), routed);
    QCOMPARE(w.textPanel()->textView()->laidOutTokens(), tokens);
    QCOMPARE(w.tokenExpertPanel()->model()->rowCount(), routed);
    QTRY_VERIFY_WITH_TIMEOUT(s->run().analysis() != nullptr, 20000);
    QVERIFY(w.policyPanel()->hitRateChart()->seriesCount() > 0);
  }

  void settingsAndLayoutPersist() {
    {
      gui::MainWindow w;
      w.show();
      w.findChild<QSpinBox*>("budgetPercent")->setValue(42);
      w.findChild<QComboBox*>("policy")->setCurrentText("lfu");
      for (QDockWidget* d : w.docks()) {
        if (d->objectName() == "affinityDock") d->hide();
      }
      w.close();
    }
    gui::MainWindow w;
    w.show();
    QCOMPARE(w.session()->settings().cache.budget_percent, 42);
    QCOMPARE(w.session()->settings().cache.policy, QString("lfu"));
    QCOMPARE(w.findChild<QSpinBox*>("budgetPercent")->value(), 42);
    for (QDockWidget* d : w.docks()) {
      QCOMPARE(d->isVisible(), d->objectName() != "affinityDock");
    }
  }

  void maxNewTokensStaysWithinTheContext() {
    gui::MainWindow w;
    w.show();
    QSignalSpy loaded(w.session(), &SessionController::modelLoaded);
    w.openStartModel(QString());
    QVERIFY(loaded.wait(30000));
    auto* max_tokens = w.findChild<QSpinBox*>("maxTokens");
    const int n_ctx = w.session()->model()->model->n_ctx();
    QCOMPARE(max_tokens->maximum(), n_ctx);
    max_tokens->setValue(n_ctx * 10);
    QCOMPARE(w.session()->settings().generation.max_new_tokens, n_ctx);
    QVERIFY(w.windowTitle().contains(w.session()->model()->display_name()));
  }

  // Issue #17: the built-in model generates 1,500 tokens in one run of the window (its context
  // holds them; the max-tokens box allows them), and every token reaches the text, the
  // token × expert heatmap and the cache analysis.
  void builtInModelGeneratesFifteenHundredTokensInOneRun() {
    constexpr int kTokens = 1500;
    QVERIFY(QFile::exists(QString(MOESCOPE_SOURCE_DIR) +
                          "/resources/models/moescope-default-q8_0.gguf"));
    gui::MainWindow w;
    w.show();
    SessionController* s = w.session();
    QSignalSpy loaded(s, &SessionController::modelLoaded);
    w.openStartModel(QString());
    QVERIFY(loaded.wait(30000));
    w.promptPanel()->editor()->setPlainText("It is a truth universally acknowledged");
    w.findChild<QSpinBox*>("maxTokens")->setValue(kTokens);
    QCOMPARE(s->settings().generation.max_new_tokens, kTokens);  // not clamped to the context

    QSignalSpy finished(s, &SessionController::runFinished);
    QTest::mouseClick(w.promptPanel()->generateButton(), Qt::LeftButton);
    QVERIFY(finished.wait(600000));
    QCOMPARE(s->last_stats().stop_reason, StopReason::kLength);
    QCOMPARE(s->last_stats().n_generated, kTokens);
    const RunData& run = s->run();
    QCOMPARE(run.token_count(), run.prompt_count() + kTokens);
    QCOMPARE(w.textPanel()->textView()->laidOutTokens(), run.token_count());
    QCOMPARE(w.tokenExpertPanel()->model()->rowCount(), run.routed_count());
    QTRY_VERIFY_WITH_TIMEOUT(
        s->run().analysis() && s->run().analysis()->complete() &&
            s->run().analysis()->n_tokens == s->run().routed_count(), 120000);
  }

  void darkThemeKeepsUncheckedBoxesVisible() {
    auto light_pixels = [] {
      QCheckBox box("x");
      box.resize(box.sizeHint());
      const QImage image = box.grab().toImage();
      int n = 0;
      for (int y = 0; y < image.height(); ++y)
        for (int x = 0; x < std::min(image.width(), 20); ++x)
          n += QColor(image.pixel(x, y)).lightness() > 120;
      return n;
    };
    gui::apply_theme(gui::Theme::kDark);
    const int dark = light_pixels();
    gui::apply_theme(gui::Theme::kSystem);
    QVERIFY2(dark >= 20, qPrintable(QString::number(dark)));  // the box's outline
  }

  void resetLayoutBringsEveryDockBack() {
    gui::MainWindow w;
    w.resize(1400, 900);
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    QDockWidget* policy = nullptr;
    for (QDockWidget* d : w.docks()) {
      if (d->objectName() == "affinityDock" || d->objectName() == "settingsDock") d->hide();
      if (d->objectName() == "policyDock") policy = d;
    }
    QVERIFY(policy);
    policy->setFloating(true);
    policy->move(-20000, -20000);  // somewhere no screen is
    w.resetLayout();
    for (QDockWidget* d : w.docks()) {
      QVERIFY2(d->isVisible() || w.tabifiedDockWidgets(d).size() > 0, qPrintable(d->objectName()));
      QVERIFY2(!d->isFloating(), qPrintable(d->objectName()));
      QVERIFY2(!d->isHidden(), qPrintable(d->objectName()));
    }
    QCOMPARE(w.dockWidgetArea(policy), Qt::BottomDockWidgetArea);

    // A floating dock saved at exit is visible, on a screen, at the next start.
    policy->setFloating(true);
    policy->move(-20000, -20000);
    w.close();
    gui::MainWindow again;
    again.show();
    QVERIFY(QTest::qWaitForWindowExposed(&again));
    for (QDockWidget* d : again.docks()) {
      if (d->objectName() != "policyDock") continue;
      QVERIFY(d->isVisible());
      if (d->isFloating()) {
        QVERIFY(QGuiApplication::screenAt(d->frameGeometry().center()) != nullptr);
      }
    }
  }

  void openingATraceInTheWindow() {
    QTemporaryDir dir;
    storage::SyntheticRecording what;
    what.spec.n_tokens = 48;
    what.spec.n_prefill = 8;
    const QString first = dir.filePath("first.sqlite");
    storage::write_synthetic_trace(first.toStdString(), what);
    what.spec.seed = 2;
    storage::write_synthetic_trace(first.toStdString(), what);  // a second run
    const QString second = dir.filePath("second.sqlite");
    storage::write_synthetic_trace(second.toStdString(), what);

    gui::MainWindow w;
    w.show();
    SessionController* s = w.session();
    RunSettings mine = s->settings();
    mine.cache.policy = "fifo";
    mine.cache.budget_percent = 33;
    s->setSettings(mine);
    QString error;
    QVERIFY(!w.exportTrace("csv:tokens", dir.filePath("none.csv"), &error));  // nothing on show
    QVERIFY(!error.isEmpty());
    QVERIFY(!QFile::exists(dir.filePath("none.csv")));

    QDockWidget* traces_dock = nullptr;
    for (QDockWidget* d : w.docks()) {
      if (d->objectName() == "tracesDock") traces_dock = d;
    }
    QSignalSpy opened(s, &SessionController::traceOpened);
    w.openTrace(first);
    QVERIFY(w.busyIndicator()->isVisible());  // reading, then analysing
    QVERIFY(opened.wait(10000));
    QTRY_VERIFY_WITH_TIMEOUT(!w.busyIndicator()->isVisible(), 10000);
    QVERIFY(!traces_dock->visibleRegion().isEmpty());  // brought forward
    QVERIFY(w.windowTitle().contains("first.sqlite"));
    QCOMPARE(s->settings().cache.policy, QString("fifo"));
    QCOMPARE(s->settings().cache.budget_percent, 33);
    // The prompt box shows the run's prompt, not the one from before.
    QString prompt;
    for (int t = 0; t < s->run().prompt_count(); ++t) prompt += s->run().token(t).text;
    QCOMPARE(w.findChild<QPlainTextEdit*>("promptEditor")->toPlainText(), prompt);

    // File → Export: the trace's tables and the report, through storage/.
    QStringList kinds;
    for (QAction* a : w.exportMenu()->actions()) {
      if (!a->data().toString().isEmpty()) kinds << a->data().toString();
    }
    QVERIFY(kinds.contains("csv:routing") && kinds.contains("html") && kinds.contains("pdf"));
    const QString csv = dir.filePath("tokens.csv");
    QVERIFY2(w.exportTrace("csv:tokens", csv, &error), qPrintable(error));
    QFile f(csv);
    QVERIFY(f.open(QIODevice::ReadOnly));
    QCOMPARE(QString::fromUtf8(f.readAll()).count('\n'), 1 + s->run().token_count());
    const QString pdf = dir.filePath("report.pdf");
    QVERIFY2(w.exportTrace("pdf", pdf, &error), qPrintable(error));
    QFile p(pdf);
    QVERIFY(p.open(QIODevice::ReadOnly));
    QVERIFY(p.read(5) == "%PDF-");
    QVERIFY(w.exportTrace("html", dir.filePath("report.html"), &error));
    QVERIFY(!w.exportTrace("json", first, &error));  // never over the trace itself

    // Compare the two runs, then open another trace: the old comparison goes.
    TracePanel* panel = w.tracePanel();
    QSignalSpy compared(panel, &TracePanel::comparisonReady);
    panel->compareRuns(0, 1);
    QVERIFY(compared.wait(10000));
    QVERIFY(panel->compareModel()->rowCount() > 0);
    QSignalSpy listed(panel, &TracePanel::runsListed);
    w.openTrace(second);
    QCOMPARE(panel->compareModel()->rowCount(), 0);
    QVERIFY(listed.wait(10000));
    QVERIFY(opened.wait(10000));
    QVERIFY(w.windowTitle().contains("second.sqlite"));
  }
};

QTEST_MAIN(MainWindowTest)
#include "main_window_test.moc"
