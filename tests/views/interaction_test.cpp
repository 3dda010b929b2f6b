// The views as a user meets them, on small hand-built runs (a synthetic trace of a few dozen
// tokens, milliseconds): the wheel over an unfocused settings field scrolls instead of editing;
// opening a trace leaves the user's settings alone; every view's CSV export equals its model's
// data; image export writes a valid PNG of the view's size (and an SVG); clicking a chart selects
// the token in every view; charts zoom.
#include <QAbstractItemModelTester>
#include <QCheckBox>
#include <QComboBox>
#include <QLineEdit>
#include <QFile>
#include <QGraphicsView>
#include <QImage>
#include <QImageReader>
#include <QLabel>
#include <QPushButton>
#include <QScrollArea>
#include <QScrollBar>
#include <QSpinBox>
#include <QTableView>
#include <QTemporaryDir>
#include <QVBoxLayout>
#include <QMenu>
#include <QtTest>

#include <cmath>

#include "storage/synthetic_recording.h"
#include "tests/views/test_support.h"
#include "views/affinity/affinity_graph_view.h"
#include "views/affinity/affinity_panel.h"
#include "views/charts/capacity_curves_panel.h"
#include "views/charts/line_chart.h"
#include "views/charts/policy_comparison_panel.h"
#include "views/charts/policy_series.h"
#include "views/charts/policy_table_model.h"
#include "views/common/color_legend.h"
#include "views/common/view_export.h"
#include "views/heatmap/heatmap_roles.h"
#include "views/heatmap/heatmap_view.h"
#include "views/heatmap/layer_expert_model.h"
#include "views/heatmap/layer_expert_panel.h"
#include "views/heatmap/token_expert_model.h"
#include "views/heatmap/token_expert_panel.h"
#include "views/prompt/prompt_panel.h"
#include "views/session/analysis.h"
#include "views/settings/settings_panel.h"
#include "views/suitability/suitability_panel.h"
#include "views/text/text_panel.h"
#include "views/text/token_text_view.h"
#include "views/session/trace_loading.h"
#include "views/traces/trace_panel.h"
#include <QTextBrowser>
#include <QTextDocument>

using namespace moescope;
using namespace moescope::views;

namespace {

// A small synthetic trace: 4 MoE layers x 16 experts, top-2, 16 prefill + 48 decode tokens,
// recorded with LRU at 2 slots per layer.
QString write_small_trace(const QTemporaryDir& dir, const QString& name = "small.sqlite") {
  storage::SyntheticRecording what;
  what.spec.n_layers = 4;
  what.spec.n_experts = 16;
  what.spec.top_k = 2;
  what.spec.n_tokens = 64;
  what.spec.n_prefill = 16;
  what.spec.affinity = 0.7;
  const QString path = dir.filePath(name);
  storage::write_synthetic_trace(path.toStdString(), what);
  return path;
}

RunSettings user_settings() {
  RunSettings s;
  s.prompt = "my prompt";
  s.generation.max_new_tokens = 77;
  s.cache.budget_percent = 42;
  s.cache.policy = "lfu";
  s.cache.link = "emmc";
  s.cache.prefetcher = "same-prev";
  s.cache.compare = {"fifo"};
  return s;
}

bool cell_equals(const QString& field, const QVariant& value) {
  if (!value.isValid()) return field.isEmpty();
  const double d = value.toDouble();
  if (std::isnan(d)) return field.isEmpty();
  bool ok = false;
  const double parsed = field.toDouble(&ok);
  return ok && parsed == d;
}

// The exported table of a heatmap equals the model: headers, every raw value.
void check_heatmap_export(const QAbstractItemModel& model, const ExportTable& t) {
  QCOMPARE(t.rows.size(), model.rowCount());
  QCOMPARE(t.header.size(), model.columnCount() + 1);
  for (int c = 0; c < model.columnCount(); ++c) {
    QCOMPARE(t.header[c + 1], model.headerData(c, Qt::Horizontal).toString());
  }
  for (int r = 0; r < model.rowCount(); ++r) {
    QCOMPARE(t.rows[r][0], model.headerData(r, Qt::Vertical).toString());
    for (int c = 0; c < model.columnCount(); ++c) {
      QVERIFY2(cell_equals(t.rows[r][c + 1], model.index(r, c).data(kRawValueRole)),
               qPrintable(QString("cell %1,%2: %3").arg(r).arg(c).arg(t.rows[r][c + 1])));
    }
  }
}

QStringList csv_lines(const QString& path) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) return {};
  QStringList lines = QString::fromUtf8(f.readAll()).split('\n');
  if (!lines.isEmpty() && lines.back().isEmpty()) lines.removeLast();
  return lines;
}

}  // namespace

class InteractionTest : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase() { QCoreApplication::setOrganizationName("MoEScope-test"); }

  void wheelOverAnUnfocusedFieldScrollsThePanel() {
    SessionController s;
    s.setSettings(user_settings());
    SettingsPanel panel(&s);
    panel.resize(380, 260);  // short: the panel scrolls
    panel.show();
    QVERIFY(QTest::qWaitForWindowExposed(&panel));
    auto* scroll = panel.findChild<QScrollArea*>();
    QVERIFY(scroll);
    QScrollBar* bar = scroll->verticalScrollBar();
    QVERIFY(bar->maximum() > 0);
    auto* max_tokens = panel.findChild<QSpinBox*>("maxTokens");
    auto* policy = panel.findChild<QComboBox*>("policy");
    QVERIFY(max_tokens && policy);
    QVERIFY(!max_tokens->hasFocus());
    const int before_tokens = max_tokens->value();
    const int before_policy = policy->currentIndex();
    const int before_scroll = bar->value();

    auto wheel = [](QWidget* w, int delta) {
      const QPointF pos(w->width() / 2.0, w->height() / 2.0);
      QWheelEvent e(pos, w->mapToGlobal(pos), QPoint(), QPoint(0, delta), Qt::NoButton,
                    Qt::NoModifier, Qt::NoScrollPhase, false);
      QCoreApplication::sendEvent(w, &e);
    };
    wheel(max_tokens, -120);
    wheel(policy, -120);
    QCOMPARE(max_tokens->value(), before_tokens);
    QCOMPARE(policy->currentIndex(), before_policy);
    QCOMPARE(s.settings().generation.max_new_tokens, 77);
    QCOMPARE(s.settings().cache.policy, QString("lfu"));
    QVERIFY(bar->value() > before_scroll);  // the panel scrolled instead

    // Focused, the field takes the wheel (so the guard is what kept it unchanged above).
    panel.activateWindow();
    max_tokens->setFocus();
    QTRY_VERIFY(max_tokens->hasFocus());
    wheel(max_tokens, 120);
    QVERIFY(max_tokens->value() != before_tokens);
  }

  void openingATraceLeavesTheSettingsUnchanged() {
    QTemporaryDir dir;
    const QString path = write_small_trace(dir);
    SessionController s;
    s.setSettings(user_settings());
    SettingsPanel panel(&s);
    panel.show();
    const CacheSettings before = s.settings().cache;
    QVERIFY(test::open_trace(s, path, -1));

    QVERIFY(s.settings().cache == before);
    QCOMPARE(s.settings().generation.max_new_tokens, 77);
    QCOMPARE(s.settings().prompt, QString("my prompt"));
    QCOMPARE(panel.findChild<QComboBox*>("policy")->currentText(), QString("lfu"));
    QCOMPARE(panel.findChild<QSpinBox*>("budgetPercent")->value(), 42);
    // The run is analysed with what it was recorded with, shown read-only.
    QVERIFY(s.recorded_cache().has_value());
    QCOMPARE(s.recorded_cache()->policy, QString("lru"));
    QCOMPARE(s.recorded_cache()->budget_percent, 13);  // 2 of 16 experts per layer
    QCOMPARE(s.analysis_cache().policy, QString("lru"));
    QCOMPARE(s.run().analysis()->settings.policy, QString("lru"));
    QVERIFY(panel.recordedSummary()->isVisible());
    QVERIFY(panel.recordedSummary()->text().contains("lru"));

    // Only the explicit action copies them.
    QVERIFY(panel.useRecordedButton()->isEnabled());
    QTest::mouseClick(panel.useRecordedButton(), Qt::LeftButton);
    QCOMPARE(s.settings().cache.policy, QString("lru"));
    QCOMPARE(s.settings().cache.budget_percent, 13);
    QCOMPARE(panel.findChild<QComboBox*>("policy")->currentText(), QString("lru"));
    QVERIFY(!panel.useRecordedButton()->isEnabled());
  }

  void everyViewsCsvEqualsItsData() {
    QTemporaryDir dir;
    const QString path = write_small_trace(dir);
    SessionController s;
    LayerExpertPanel layer_expert(&s);
    TokenExpertPanel token_expert(&s);
    PolicyComparisonPanel policies(&s);
    CapacityCurvesPanel curves(&s);
    AffinityPanel affinity(&s);
    TextPanel text(&s);
    SuitabilityPanel suitability(&s);
    TracePanel traces(&s);
    QSignalSpy listed(&traces, &TracePanel::runsListed);
    traces.openTrace(path);
    QVERIFY(listed.wait(10000));
    QTRY_VERIFY_WITH_TIMEOUT(s.run().analysis() && s.run().analysis()->complete() &&
                                 s.run().analysis()->n_tokens == s.run().routed_count(),
                             10000);
    const RunData& run = s.run();
    QCOMPARE(run.token_count(), 64);

    // Heatmaps: every raw value, with the row and column labels.
    for (HeatmapView* v : {layer_expert.view(), token_expert.view()}) {
      ViewExport* e = ViewExport::of(v);
      QVERIFY(e);
      check_heatmap_export(*v->model(), e->table());
    }
    // Through a file: the CSV holds the same table, a line per row.
    const QString csv = dir.filePath("layer-expert.csv");
    QVERIFY(ViewExport::of(layer_expert.view())->exportCsv(csv));
    const QStringList lines = csv_lines(csv);
    QCOMPARE(lines.size(), 1 + layer_expert.model()->rowCount());
    QCOMPARE(lines.join('\n') + '\n', to_csv(ViewExport::of(layer_expert.view())->table()));
    for (int e = 0; e < 16; ++e) {
      QCOMPARE(lines[1].split(',')[e + 1].toDouble(),
               double(run.activations(0, e)));  // the default measure: activation counts
    }

    // The text: one row per token, its id and text.
    const ExportTable tokens = ViewExport::of(text.textView())->table();
    QCOMPARE(tokens.rows.size(), run.token_count());
    for (int t = 0; t < run.token_count(); ++t) {
      QCOMPARE(tokens.rows[t][1].toInt(), run.token(t).id);
      QCOMPARE(tokens.rows[t][2], run.token(t).text);
      QCOMPARE(tokens.rows[t][3], QString(run.token(t).generated ? "1" : "0"));
    }

    // The hit-rate chart: every decode token's running hit rate of every policy, recomputed
    // here from the analysis' per-token counters.
    const AnalysisResult& a = *run.analysis();
    const ExportTable hit = ViewExport::of(policies.hitRateChart())->table();
    int row = 0;
    int series = 0;
    for (const PolicyRun& p : a.policies) {
      if (!p.error.empty()) continue;
      int64_t hits = 0, accesses = 0;
      for (int t = run.prompt_count(); t < int(p.report.token.size()); ++t) {
        hits += p.report.token[size_t(t)].hits;
        accesses += p.report.token[size_t(t)].accesses;
        QVERIFY(row < hit.rows.size());
        QCOMPARE(hit.rows[row][0], policies.hitRateChart()->seriesName(series));
        QCOMPARE(hit.rows[row][1].toInt(), t);
        QVERIFY(std::abs(hit.rows[row][2].toDouble() -
                         (accesses ? double(hits) / double(accesses) : 0.0)) < 1e-12);
        ++row;
      }
      ++series;
    }
    QCOMPARE(row, int(hit.rows.size()));
    QVERIFY(row > 0);

    // The policy table, the suitability table and the trace's run list: every cell as shown.
    auto* table = policies.findChild<QTableView*>("policyTable");
    const ExportTable totals = ViewExport::of(table)->table();
    QCOMPARE(totals.rows.size(), policies.tableModel()->rowCount());
    for (int r = 0; r < totals.rows.size(); ++r) {
      for (int c = 0; c < policies.tableModel()->columnCount(); ++c) {
        QCOMPARE(totals.rows[r][c], policies.tableModel()->index(r, c).data().toString());
      }
    }
    QCOMPARE(ViewExport::of(traces.runsView())->table().rows.size(), 1);

    // Affinity: the edges drawn, each P(e' | e) of the analysis at or above the threshold.
    AffinityGraphView* graph = affinity.findChild<AffinityGraphView*>();
    const ExportTable edges = ViewExport::of(graph)->table();
    QCOMPARE(int(edges.rows.size()), graph->visibleEdges());
    QVERIFY(!edges.rows.isEmpty());
    for (const QStringList& e : edges.rows) {
      const int l = e[0].toInt(), i = e[1].toInt(), j = e[2].toInt();
      QCOMPARE(e[3].toDouble(), a.affinity[size_t(l)][size_t(i) * 16 + size_t(j)]);
      QVERIFY(e[3].toDouble() >= graph->threshold());
    }
    // Capacity curves: every point of every curve.
    LineChart* curve = curves.findChild<LineChart*>("capacityChart");
    int points = 0;
    for (int i = 0; i < curve->seriesCount(); ++i) points += curve->seriesPoints(i).size();
    QVERIFY(points > 0);
    QVERIFY(ViewExport::of(curve)->table().rows.size() <= points);  // the budget marker is not data
  }

  void csvQuotesWhatNeedsIt() {
    ExportTable t;
    t.header << "a" << "b";
    t.rows << QStringList{"x,y", "say \"hi\""} << QStringList{"line\nbreak", "plain"};
    QCOMPARE(to_csv(t), QString("a,b\n\"x,y\",\"say \"\"hi\"\"\"\n\"line\nbreak\",plain\n"));
    QCOMPARE(csv_number(0.1), QString("0.1"));
    QCOMPARE(csv_number(25000), QString("25000"));
  }

  void imageExportWritesAPngOfTheViewsSize() {
    QTemporaryDir dir;
    const QString path = write_small_trace(dir);
    SessionController s;
    LayerExpertPanel panel(&s);
    panel.resize(500, 320);
    panel.show();
    QVERIFY(QTest::qWaitForWindowExposed(&panel));
    QVERIFY(test::open_trace(s, path, -1));
    ViewExport* e = ViewExport::of(panel.view());
    const QString png = dir.filePath("view.png");
    QString error;
    QVERIFY2(e->saveImage(png, &error), qPrintable(error));
    QImageReader reader(png);
    QCOMPARE(reader.format(), QByteArray("png"));
    const QImage image = reader.read();
    QVERIFY(!image.isNull());
    QCOMPARE(image.size(), panel.view()->size() * panel.view()->devicePixelRatio());
    // Not blank: the cells are drawn in more than one colour.
    QSet<QRgb> colours;
    for (int y = 0; y < image.height(); y += 7)
      for (int x = 0; x < image.width(); x += 7) colours.insert(image.pixel(x, y));
    QVERIFY(colours.size() > 4);

    const QString svg = dir.filePath("view.svg");
    QVERIFY(e->saveImage(svg, &error));
    QFile f(svg);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QByteArray bytes = f.readAll();
    QVERIFY(bytes.contains("<svg"));
    QVERIFY(bytes.contains("</svg>"));
    // A directory that does not exist: an error, no file.
    QVERIFY(!e->saveImage(dir.filePath("missing/view.png"), &error));
    QVERIFY(!error.isEmpty());
    // The menu every view shows on a right-click.
    std::unique_ptr<QMenu> menu(e->createMenu(nullptr));
    QStringList names;
    for (QAction* a : menu->actions()) names << a->objectName();
    QCOMPARE(names, QStringList({"exportCopy", "exportImage", "exportCsv"}));
  }

  void chartClickSelectsTheTokenInTheTextAndZooms() {
    QTemporaryDir dir;
    const QString path = write_small_trace(dir);
    SessionController s;
    QWidget window;
    auto* layout = new QVBoxLayout(&window);
    auto* policies = new PolicyComparisonPanel(&s, &window);
    auto* text = new TextPanel(&s, &window);
    layout->addWidget(policies);
    layout->addWidget(text);
    window.resize(900, 800);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QVERIFY(test::open_trace(s, path, -1));
    LineChart* chart = policies->hitRateChart();
    QTRY_VERIFY(chart->seriesCount() > 0);
    QCoreApplication::processEvents();

    // Integer token ticks.
    const auto [lo, hi] = chart->xRange();
    QCOMPARE(lo, double(s.run().prompt_count()));
    QCOMPARE(hi, 63.0);

    const int token = 40;
    auto* view = chart->findChild<QGraphicsView*>();
    QVERIFY(view);
    const QPoint at = view->viewport()->mapFrom(chart, chart->positionOf(token, 0.5));
    QTest::mouseClick(view->viewport(), Qt::LeftButton, {}, at);
    QCOMPARE(s.selection()->token(), token);
    QCOMPARE(chart->markedX(), double(token));
    QCOMPARE(policies->bytesChart()->markedX(), double(token));
    // The text view marks it too: it is laid out and scrolled into view.
    const QRect r = text->textView()->tokenRect(token);
    QVERIFY(r.isValid());
    QVERIFY(text->textView()->viewport()->rect().intersects(r));

    // Hover text names the token and a value per series.
    const QString values = chart->valuesAt(token);
    QVERIFY(values.contains("40"));
    QCOMPARE(values.count('\n'), chart->seriesCount());

    // Dragging across 30..50 zooms to that range; a double-click shows everything again.
    const QPoint from = view->viewport()->mapFrom(chart, chart->positionOf(30, 0.5));
    const QPoint to = view->viewport()->mapFrom(chart, chart->positionOf(50, 0.5));
    QTest::mousePress(view->viewport(), Qt::LeftButton, {}, from);
    QTest::mouseMove(view->viewport(), to);
    QTest::mouseRelease(view->viewport(), Qt::LeftButton, {}, to);
    QVERIFY(chart->zoomed());
    QVERIFY(std::abs(chart->xRange().first - 30) < 1);
    QVERIFY(std::abs(chart->xRange().second - 50) < 1);
    QCOMPARE(s.selection()->token(), token);  // a drag is no click
    QTest::mouseDClick(view->viewport(), Qt::LeftButton, {}, from);
    QVERIFY(!chart->zoomed());
    QCOMPARE(chart->xRange().second, 63.0);
  }

  void textWrapsAtWordsAndPinsTheDetails() {
    QTemporaryDir dir;
    LoadedRun r = load_trace_run(write_small_trace(dir).toStdString());
    const QStringList pieces = {" ack", "now", "ledged", " the", " truth", " univers", "ally", ","};
    for (size_t t = 0; t < r.data.tokens.size(); ++t) {
      r.data.tokens[t].text = pieces[int(t) % pieces.size()];
    }
    SessionController s;
    TextPanel panel(&s);
    panel.resize(420, 500);
    panel.show();
    QVERIFY(QTest::qWaitForWindowExposed(&panel));
    s.showRun(r.shape, r.data, "words");
    TokenTextView* view = panel.textView();
    QCOMPARE(view->laidOutTokens(), 64);
    int breaks = 0;
    for (int t = 1; t < 64; ++t) {
      const bool continues = !pieces[t % pieces.size()].front().isSpace() &&
                             pieces[t % pieces.size()] != ",";
      const int y0 = view->tokenRect(t - 1).y(), y1 = view->tokenRect(t).y();
      if (y1 != y0) ++breaks;
      if (continues) {
        QVERIFY2(y1 == y0, qPrintable(QString("token %1 split from its word").arg(t)));
      }
    }
    QVERIFY(breaks > 2);  // narrow enough to wrap

    // The pinned details: the tooltip's routing of the selected token, as selectable text.
    QTextBrowser* details = panel.tokenDetails();
    QVERIFY(details->toPlainText().isEmpty());
    s.selection()->setToken(20);
    QTextDocument expected;
    expected.setHtml(view->routingTooltip(20));
    QCOMPARE(details->toPlainText(), expected.toPlainText());
    QVERIFY(!details->toPlainText().isEmpty());
    QVERIFY(details->textInteractionFlags() & Qt::TextSelectableByMouse);
  }

  void recordingWithoutAFileIsRefusedVisibly() {
    SessionController s;
    SettingsPanel panel(&s);
    panel.show();
    auto* record = panel.findChild<QCheckBox*>("recordTrace");
    auto* error = panel.findChild<QLabel*>("recordError");
    QVERIFY(record && error);
    record->setChecked(true);
    QVERIFY(!record->isChecked());
    QVERIFY(s.settings().trace_path.isEmpty());
    QVERIFY(error->isVisible());
    QVERIFY(!error->text().isEmpty());
    panel.findChild<QLineEdit*>("recordPath")->setText("/tmp/x.sqlite");
    QVERIFY(!error->isVisible());
    record->setChecked(true);
    QCOMPARE(s.settings().trace_path, QString("/tmp/x.sqlite"));

    // Policies say their rule, link presets their bandwidth and latency.
    auto* link = panel.findChild<QComboBox*>("link");
    const int nvme = link->findText("nvme");
    QVERIFY(nvme >= 0);
    const QString tip = link->itemData(nvme, Qt::ToolTipRole).toString();
    QVERIFY2(tip.contains("/s") && tip.contains("latency"), qPrintable(tip));
    auto* policy = panel.findChild<QComboBox*>("policy");
    for (const char* p : {"lru", "lfu", "fifo", "arc", "lru-global"}) {
      QVERIFY2(!policy->itemData(policy->findText(p), Qt::ToolTipRole).toString().isEmpty(),
               p);
    }
  }

  void emptyHeatmapsLookEmpty() {
    QTemporaryDir dir;
    const LoadedRun r = load_trace_run(write_small_trace(dir).toStdString());
    SessionController s;
    LayerExpertPanel panel(&s);
    panel.resize(500, 320);
    panel.show();
    QVERIFY(QTest::qWaitForWindowExposed(&panel));
    s.showRun(r.shape, RunDelta{}, "empty");  // the model's shape, nothing routed
    QCOMPARE(panel.model()->rowCount(), 4);
    // The share of the grid in its most common colour: the background when empty.
    auto plain_share = [&] {
      const QImage image = panel.view()->viewport()->grab().toImage();
      QHash<QRgb, int> count;
      int n = 0;
      for (int y = 30; y < image.height(); y += 3)
        for (int x = 50; x < image.width(); x += 3, ++n) ++count[image.pixel(x, y)];
      int most = 0;
      for (int c : count) most = std::max(most, c);
      return double(most) / n;
    };
    const double empty = plain_share();
    s.showRun(r.shape, r.data, "full");
    const double full = plain_share();
    QVERIFY2(empty > 0.85 && full < 0.75, qPrintable(QString("%1 empty, %2 full").arg(empty).arg(full)));
  }

  void legendsWrapInsteadOfClipping() {
    ColorLegend legend;
    QVector<QPair<QColor, QString>> experts;
    for (int e = 0; e < 16; ++e) experts.append({QColor(Qt::red), QString("expert %1").arg(e)});
    legend.setCategories("Top-1 expert", experts);
    const QVector<QRect> rects = legend.categoryRects(300);
    QCOMPARE(rects.size(), 16);
    for (const QRect& r : rects) QVERIFY(r.right() <= 300);
    QVERIFY(rects.back().y() > rects.front().y());  // more than one line
    QVERIFY(legend.heightForWidth(300) > rects.back().bottom());
  }

  // The one end-to-end test here: a real (tiny reference) model generates, then another model is
  // opened; the prompt panel must not keep counting the old run's tokens.
  void noStaleTokenCountAfterAModelChange() {
    SessionController s;
    PromptPanel prompt(&s);
    QVERIFY(test::load_model(s, test::reference_model("llama-moe-q8_0")));
    s.setSettings(test::quick_settings("The quick brown fox", 6));
    QVERIFY(test::generate_and_wait(s));
    auto* state = prompt.findChild<QLabel*>("runState");
    QVERIFY(state->text().contains(QString::number(s.run().token_count() - s.run().prompt_count())));
    QVERIFY(test::load_model(s, test::reference_model("llama-moe-f32")));
    QTRY_COMPARE(s.run().token_count(), 0);
    QCOMPARE(state->text(), QString("Ready"));
  }

  void policiesKeepTheirColours() {
    PolicyRun a, b;
    a.spec = "fifo";
    b.spec = "fifo";
    b.role = PolicyRun::Role::kChosen;
    QCOMPARE(policy_color(a, 1), policy_color(a, 5));  // not by place in the list
    PolicyRun lfu;
    lfu.spec = "lfu:1";
    QVERIFY(policy_color(lfu, 1) != policy_color(a, 1));
  }
};

QTEST_MAIN(InteractionTest)
#include "interaction_test.moc"
