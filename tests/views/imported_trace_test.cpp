// A run imported from another engine (`moescope import`, no model) opens in the desktop app's
// trace loading like a recorded one: its shape, tokens and every token's experts come back.
#include <QTemporaryDir>
#include <QtTest>

#include <fstream>

#include "storage/import/importer.h"
#include "views/session/trace_loading.h"

using namespace moescope;

class ImportedTraceTest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void loadsAnImportedRun() {
    QTemporaryDir dir;
    const std::filesystem::path csv = dir.filePath("routing.csv").toStdString();
    const std::filesystem::path trace = dir.filePath("t.sqlite").toStdString();
    {
      std::ofstream f(csv);
      // Two tokens in one prefill call, then one decode token; 2 layers, top-2 of 4 experts.
      f << "phase,token,layer,rank,expert\n"
           "prefill,0,0,0,1\nprefill,0,0,1,3\nprefill,1,0,0,2\nprefill,1,0,1,0\n"
           "prefill,0,1,0,0\nprefill,0,1,1,2\nprefill,1,1,0,3\nprefill,1,1,1,1\n"
           "decode,2,0,0,3\ndecode,2,0,1,2\ndecode,2,1,0,1\ndecode,2,1,1,0\n";
    }
    storage::import::ImportOptions o;
    o.format = storage::import::ImportFormat::kLlamaCsv;
    o.in = csv;
    o.trace = trace;
    storage::import::import_routing(o);
    const views::LoadedRun run = views::load_trace_run(trace);
    QCOMPARE(run.shape.n_layers(), 2);
    QCOMPARE(run.shape.n_experts[0], 4);
    QCOMPARE(int(run.data.phase.size()), 3);
    QCOMPARE(int(run.data.experts.size()), 12);
    const std::vector<int32_t> want = {1, 3, 0, 2, 2, 0, 3, 1, 3, 2, 1, 0};
    for (size_t i = 0; i < want.size(); ++i) QCOMPARE(run.data.experts[i].value, want[i]);
    QVERIFY(!run.cache.has_value());
  }
};

QTEST_GUILESS_MAIN(ImportedTraceTest)
#include "imported_trace_test.moc"
