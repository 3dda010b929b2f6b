// The Devices panel: after a live run it shows the placement study of the run's routing (the
// engine's run_study on the same routing and settings, computed here independently), follows the
// device/node/redundant chooser, and paints the selected placement's load and all-to-all grids.
#include <QLabel>
#include <QSpinBox>
#include <QTableWidget>
#include <QtTest>

#include <cmath>

#include "engine/placement/placement_study.h"
#include "tests/views/test_support.h"
#include "views/devices/device_grid_view.h"
#include "views/devices/devices_panel.h"

namespace {

using namespace moescope;
using namespace moescope::views;

bool wait_study(const SessionController& s, const DevicesPanel& panel, int devices) {
  QElapsedTimer timer;
  timer.start();
  while (timer.elapsed() < 30000) {
    const auto& got = panel.study();
    if (got && got->n_tokens == s.run().routed_count() &&
        got->options.topology.devices == devices &&
        s.state() != SessionController::State::kGenerating)
      return true;
    QTest::qWait(20);
  }
  return false;
}

}  // namespace

class DevicesTest : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void showsTheEngineStudyOfTheRun() {
    SessionController s;
    DevicesPanel panel(&s);
    QVERIFY(!panel.statusLabel()->text().isEmpty());  // "no placement yet"
    QCOMPARE(panel.table()->rowCount(), 0);
    QVERIFY(test::load_model(s, test::reference_model("llama-moe-q8_0")));
    s.setSettings(test::quick_settings("The quick brown fox", 40));
    QVERIFY(test::generate_and_wait(s));
    QVERIFY(wait_study(s, panel, 4));

    policy::RoutingTrace trace = s.run().routing_trace();
    trace.validate();
    placement::StudyOptions options;
    options.topology = {.devices = 4, .nodes = 1};
    const placement::Study expected = placement::run_study(
        {.routing = trace, .requests = {}, .steps = {}, .n_model_layers = 0, .label = "x"}, options);
    QCOMPARE(panel.table()->rowCount(), int(expected.entries.size()));
    for (int r = 0; r < panel.table()->rowCount(); ++r) {
      const placement::PlacementMetrics& m = expected.entries[size_t(r)].metrics;
      QCOMPARE(panel.table()->item(r, 0)->text(), QString::fromStdString(m.algorithm));
      QCOMPARE(panel.table()->item(r, 1)->text(), QLocale().toString(m.balancedness(), 'f', 3));
    }
    // The grids show the selected (first) placement: layers x devices and devices x devices.
    const placement::PlacementMetrics& first = expected.entries[0].metrics;
    QCOMPARE(panel.loadView()->rows(), int(first.layers.size()));
    QCOMPARE(panel.loadView()->cols(), 4);
    QCOMPARE(panel.loadView()->value(0, 2), first.layers[0].device_load[2]);
    QCOMPARE(panel.trafficView()->rows(), 4);
    QCOMPARE(panel.trafficView()->value(1, 3), first.traffic[1 * 4 + 3]);

    // The chooser recomputes; sizes that do not divide say why.
    panel.devicesBox()->setValue(2);
    QVERIFY(wait_study(s, panel, 2));
    QCOMPARE(panel.loadView()->cols(), 2);
    panel.devicesBox()->setValue(7);
    QElapsedTimer timer;
    timer.start();
    while (timer.elapsed() < 30000 && !panel.statusLabel()->text().contains("7")) QTest::qWait(20);
    QVERIFY(panel.statusLabel()->text().contains("7"));
    QCOMPARE(panel.table()->rowCount(), 0);
  }
};

QTEST_MAIN(DevicesTest)
#include "devices_test.moc"
