// The session core against independent facts: llama.cpp's routing of the reference prompt, the
// expert store's own counters (replay must equal live), Stop within one token, and the refresh
// rate limit.
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonObject>
#include <QSignalSpy>
#include <QtTest>

#include "engine/policy/access_stream.h"
#include "engine/policy/allocators.h"
#include "engine/policy/policy_factory.h"
#include "engine/policy/prefetcher.h"
#include "engine/policy/simulator.h"
#include "engine/policy/synthetic_trace.h"
#include "tests/views/test_support.h"
#include "views/session/analysis.h"

using namespace moescope;
using namespace moescope::views;

class SessionTest : public QObject {
  Q_OBJECT

 private:
  static QString reference_prompt() {
    QFile f(QString(MOESCOPE_SHARED_DIR) + "/reference/logits/prompt.txt");
    if (!f.open(QIODevice::ReadOnly)) return {};
    return QString::fromUtf8(f.readAll());
  }

 private Q_SLOTS:
  void routingMatchesLlamaCpp() {
    SessionController s;
    QVERIFY(test::load_model(s, test::reference_model("llama-moe-f32")));
    s.setSettings(test::quick_settings(reference_prompt(), 3));
    QVERIFY(test::generate_and_wait(s));

    const RunData& run = s.run();
    const QJsonObject ref = test::read_json(QString(MOESCOPE_SHARED_DIR) +
                                            "/reference/logits/llama-moe-f32/routing.json")
                                .object();
    const QJsonArray ids = ref["tokens"].toArray();
    QVERIFY(ids.size() > 10);
    QCOMPARE(run.prompt_count(), ids.size());
    QCOMPARE(run.token_count(), ids.size() + 3);
    // Every token but the last generated one went through the model.
    QCOMPARE(run.routed_count(), ids.size() + 2);
    for (int t = 0; t < ids.size(); ++t) QCOMPARE(run.token(t).id, ids[t].toInt());
    const QJsonObject topk = ref["topk"].toObject();
    QCOMPARE(run.n_layers(), topk.size());
    for (int l = 0; l < run.n_layers(); ++l) {
      const QJsonArray rows = topk[QString::number(l)].toArray();
      for (int t = 0; t < ids.size(); ++t) {
        const QJsonArray want = rows[t].toArray();
        const auto got = run.experts(t, l);
        QCOMPARE(int(got.size()), want.size());
        for (int r = 0; r < want.size(); ++r) QCOMPARE(got[size_t(r)].value, want[r].toInt());
        const auto w = run.weights(t, l);
        QVERIFY(std::abs(w[0] + w[1] - 1.0f) < 1e-4f);  // llama MoE renormalises the top-2
        const float h = run.entropy_bits(t, l);
        QVERIFY(h >= 0 && h <= 3.0f + 1e-4f);  // 8 experts: at most log2 8 bits
      }
    }
    for (int t = 0; t < run.routed_count(); ++t) {
      QCOMPARE(run.phase(t), t < ids.size() ? policy::Phase::kPrefill : policy::Phase::kDecode);
    }
    for (int l = 0; l < run.n_layers(); ++l) {
      int64_t sum = 0;
      for (int e = 0; e < run.n_experts(l); ++e) sum += run.activations(l, e);
      QCOMPARE(sum, int64_t(run.routed_count()) * 2);
    }
  }

  void analysisEqualsTheLiveStore() {
    SessionController s;
    QVERIFY(test::load_model(s, test::reference_model("llama-moe-q8_0")));
    RunSettings settings = test::quick_settings("Once upon a time", 24);
    settings.cache.prefetcher = "same-prev";
    s.setSettings(settings);
    QVERIFY(test::generate_and_wait(s));
    QVERIFY(s.last_run_offloaded());
    QVERIFY(s.live_decisions().has_value());
    QVERIFY(test::wait_analysis(s));

    const AnalysisResult& a = *s.run().analysis();
    const PolicyRun& chosen = *a.chosen();
    QVERIFY2(chosen.error.empty(), chosen.error.c_str());
    const policy::CacheReport& live = *s.live_decisions();
    QVERIFY(live.phase[1].accesses > 0);
    QCOMPARE(chosen.report.phase[0], live.phase[0]);
    QCOMPARE(chosen.report.phase[1], live.phase[1]);
    QCOMPARE(chosen.report.token, live.token);
    QCOMPARE(chosen.report.layer[1], live.layer[1]);

    // Per-selection outcomes agree with the counters: in decode every selection is one access.
    const RunData& run = s.run();
    int64_t hits = 0, accesses = 0;
    for (int t = run.prompt_count(); t < run.routed_count(); ++t) {
      for (int l = 0; l < run.n_layers(); ++l) {
        for (size_t r = 0; r < run.experts(t, l).size(); ++r) {
          ++accesses;
          if (a.outcome[size_t(run.selection_offset(t, l)) + r] != AccessOutcome::kMiss) ++hits;
        }
      }
    }
    QCOMPARE(accesses, live.phase[1].accesses);
    QCOMPARE(hits, live.phase[1].hits);
    int64_t key_hits = 0, key_accesses = 0;
    for (size_t k = 0; k < a.key_hits.size(); ++k) {
      key_hits += a.key_hits[k];
      key_accesses += a.key_accesses[k];
    }
    QCOMPARE(key_hits, live.total().hits);
    QCOMPARE(key_accesses, live.total().accesses);
    // Compared policies and the two oracle references ran.
    QCOMPARE(int(a.policies.size()), 1 + 2 + 2);
    for (const PolicyRun& p : a.policies) QVERIFY2(p.error.empty(), p.error.c_str());
    const PolicyRun& belady = a.policies[3];
    QCOMPARE(belady.spec, std::string("belady-bypass"));
    // The one-pass LRU curve at the chosen capacity equals the replayed LRU without prefetching
    // only when there is no prefetcher; here it is at least defined and monotone.
    const auto& curve = a.lru_curves.global;
    for (size_t c = 1; c < curve.hits[1].size(); ++c)
      QVERIFY(curve.hits_at(c) >= curve.hits_at(c - 1));
  }

  // The analysis arrives in stages (the routing and the chosen policy, then the compared
  // policies and bounds, then the curves); each stage holds exactly what the whole analysis
  // holds for its parts, and the parts computed side by side equal the same replays run alone.
  void analysisArrivesInStagesThatAgreeWithTheWhole() {
    policy::RoutingTrace trace =
        policy::synthetic_trace({.kind = policy::SyntheticSpec::Kind::kBursty,
                                 .n_layers = 3,
                                 .n_experts = 8,
                                 .top_k = 2,
                                 .n_tokens = 400,
                                 .n_prefill = 20,
                                 .seed = 5});
    trace.validate();
    CacheSettings settings;
    settings.budget_percent = 30;
    std::vector<std::shared_ptr<const AnalysisResult>> stages;
    const std::shared_ptr<AnalysisResult> whole =
        analyse(trace, settings, nullptr,
                [&](std::shared_ptr<const AnalysisResult> a) { stages.push_back(std::move(a)); });
    QVERIFY(whole->complete());
    QCOMPARE(int(stages.size()), 2);
    QCOMPARE(stages[0]->parts, uint32_t(policy::kAnalysisRouting | policy::kAnalysisChosen));
    QCOMPARE(stages[1]->parts, uint32_t(policy::kAnalysisRouting | policy::kAnalysisChosen |
                                        policy::kAnalysisPolicies));
    QCOMPARE(int(stages[0]->policies.size()), 1);
    QCOMPARE(stages[1]->policies.size(), whole->policies.size());
    QCOMPARE(int(whole->policies.size()), 1 + 3 + 2);  // lru; lfu, fifo, arc; two bounds
    for (const auto& stage : stages) {
      QVERIFY(!stage->complete());
      QVERIFY(!stage->has(policy::kAnalysisCurves));
      QVERIFY(stage->outcome == whole->outcome);
      QVERIFY(stage->key_hits == whole->key_hits);
      QVERIFY(stage->resident_tokens == whole->resident_tokens);
      QVERIFY(stage->affinity == whole->affinity);
      for (size_t i = 0; i < stage->policies.size(); ++i) {
        QCOMPARE(stage->policies[i].spec, whole->policies[i].spec);
        QCOMPARE(stage->policies[i].bound, whole->policies[i].bound);
        QCOMPARE(stage->policies[i].report.token, whole->policies[i].report.token);
      }
    }
    // Each compared policy and bound equals its replay on its own, one after another.
    const auto stream = std::make_shared<const policy::AccessStream>(
        policy::AccessStream::build(trace, {kPrefillChunk}));
    const policy::AnalysisRequest request = analysis_request(settings, trace.shape);
    for (size_t i = 1; i < whole->policies.size(); ++i) {
      const PolicyRun& run = whole->policies[i];
      QVERIFY2(run.error.empty(), run.error.c_str());
      const policy::PolicySpec spec = policy::parse_policy_spec(run.spec);
      policy::TimingModel timing;
      timing.link = policy::LinkModel::preset(request.link);
      policy::CacheSimulator sim(
          trace.shape,
          policy::make_capacity(spec.pool, policy::Budget::slots(request.budget_slots), trace.shape,
                                policy::parse_allocator(request.allocator), &trace),
          policy::make_policy(spec, {stream, nullptr}), policy::make_prefetcher("none", {}),
          timing);
      QCOMPARE(policy::replay(trace, *stream, sim).token, run.report.token);
    }
    // The curves, computed beside the chosen policy, equal the one-pass curves computed alone.
    const policy::CurveSet lru = policy::lru_curves(*stream, trace.shape);
    const policy::CurveSet opt = policy::opt_curves(*stream, trace.shape);
    QVERIFY(lru.global.hits == whole->lru_curves.global.hits);
    QVERIFY(opt.global.hits == whole->opt_curves.global.hits);
    for (size_t l = 0; l < lru.per_layer.size(); ++l) {
      QVERIFY(lru.per_layer[l].hits == whole->lru_curves.per_layer[l].hits);
      QVERIFY(opt.per_layer[l].hits == whole->opt_curves.per_layer[l].hits);
    }
  }

  // next-gate's predictions exist only inside the engine: the run records them, and the
  // analysis' replay with them equals the live store, which made its own.
  void nextGateReplayEqualsTheLiveStore() {
    SessionController s;
    QVERIFY(test::load_model(s, test::reference_model("llama-moe-q8_0")));
    RunSettings settings = test::quick_settings("Once upon a time", 24);
    settings.cache.prefetcher = "next-gate";
    s.setSettings(settings);
    QVERIFY(test::generate_and_wait(s));
    QVERIFY(s.live_decisions().has_value());
    QVERIFY(test::wait_analysis(s));
    const policy::CacheReport& live = *s.live_decisions();
    QVERIFY(live.phase[1].prefetch_predicted > 0);
    QVERIFY(live.phase[1].prefetch_correct > 0);
    const PolicyRun& chosen = *s.run().analysis()->chosen();
    QVERIFY2(chosen.error.empty(), chosen.error.c_str());
    QCOMPARE(chosen.report.phase[0], live.phase[0]);
    QCOMPARE(chosen.report.phase[1], live.phase[1]);
    QCOMPARE(chosen.report.token, live.token);
    // One prediction per decode token and target layer (every layer but the first).
    const RunData& run = s.run();
    int decode = 0;
    for (int t = 0; t < run.routed_count(); ++t) decode += run.phase(t) == policy::Phase::kDecode;
    QCOMPARE(int(run.gate_predictions().size()), decode * (run.n_layers() - 1));
    // Without the recorded predictions the replay would predict nothing.
    const auto blind = analyse(run.routing_trace(), settings.cache, nullptr);
    QCOMPARE(blind->chosen()->report.phase[1].prefetch_predicted, int64_t(0));
  }

  // Tokens come faster than 30 a second here: the views still get at most 30 updates a second,
  // each carrying several tokens.
  void aFastRunIsBatched() {
    SessionController s;
    QVERIFY(test::load_model(s, test::reference_model("llama-moe-f32")));
    RunSettings settings = test::quick_settings("The", 400);
    settings.cache.offload = false;
    settings.generation.sampling.temperature = 0.8f;
    settings.generation.sampling.seed = 3;
    s.setSettings(settings);
    QSignalSpy updates(&s, &SessionController::runUpdated);
    QElapsedTimer timer;
    timer.start();
    QVERIFY(test::generate_and_wait(s));
    const qint64 elapsed = timer.elapsed();
    const int generated = s.run().token_count() - s.run().prompt_count();
    QVERIFY2(generated >= 60, qPrintable(QString("only %1 tokens").arg(generated)));
    QVERIFY2(updates.size() <= elapsed * 30 / 1000 + 2,
             qPrintable(QString("%1 updates in %2 ms").arg(updates.size()).arg(elapsed)));
    QVERIFY2(generated > 2 * updates.size(),
             qPrintable(QString("%1 tokens in %2 updates").arg(generated).arg(updates.size())));
  }

  void stopTakesEffectWithinOneTokenAndUpdatesAreBatched() {
    SessionController s;
    QVERIFY(test::load_model(s, test::reference_model("llama-moe-f32")));
    RunSettings settings = test::quick_settings("The", -1);  // until the context is full
    settings.cache.link = "emmc";  // slow loads: the run lasts long enough to be stopped
    settings.cache.budget_percent = 13;
    s.setSettings(settings);

    QSignalSpy updates(&s, &SessionController::runUpdated);
    QSignalSpy finished(&s, &SessionController::runFinished);
    QElapsedTimer timer;
    timer.start();
    QVERIFY(s.generate());
    while (s.run().token_count() < s.run().prompt_count() + 20 && timer.elapsed() < 30000) {
      updates.wait(50);
    }
    QVERIFY(s.run().token_count() >= s.run().prompt_count() + 20);
    const int routed_at_stop = s.engine_routed_count();
    s.stop();
    QCOMPARE(s.state(), SessionController::State::kStopping);
    QVERIFY(finished.wait(10000));
    const qint64 elapsed = timer.elapsed();
    QCOMPARE(s.last_stats().stop_reason, StopReason::kCancelled);
    QVERIFY2(
        s.run().routed_count() <= routed_at_stop + 1,
        qPrintable(QString("%1 tokens after Stop").arg(s.run().routed_count() - routed_at_stop)));
    QVERIFY(s.run().routed_count() < s.run().prompt_count() + 200);  // it did stop early
    // At most 30 refreshes a second (plus the final one).
    QVERIFY2(updates.size() <= elapsed * 30 / 1000 + 2,
             qPrintable(QString("%1 updates in %2 ms").arg(updates.size()).arg(elapsed)));
    QVERIFY(updates.size() >= 2);  // and the views did see the run grow while it was live
  }

  void newerJobsReplaceOlderOnes() {
    SessionController s;
    QVERIFY(test::load_model(s, test::reference_model("llama-moe-f32")));
    RunSettings settings = test::quick_settings("The", -1);
    settings.cache.link = "emmc";
    s.setSettings(settings);
    QVERIFY(s.generate());
    QVERIFY(!s.generate());  // one job at a time
    // Opening a model cancels the generation; its results never reach the run.
    QSignalSpy finished(&s, &SessionController::runFinished);
    QVERIFY(test::load_model(s, test::reference_model("llama-moe-q8_0")));
    QCOMPARE(s.state(), SessionController::State::kReady);
    QCOMPARE(s.run().token_count(), 0);
    QTest::qWait(200);
    QCOMPARE(finished.size(), 0);
    QCOMPARE(s.model()->path.filename().string(), std::string("llama-moe-q8_0.gguf"));
  }

  void badModelFailsWithAMessage() {
    SessionController s;
    QSignalSpy failed(&s, &SessionController::modelFailed);
    s.openModel(QString(MOESCOPE_SOURCE_DIR) + "/CMakeLists.txt");
    QVERIFY(failed.wait(10000));
    QVERIFY(!failed.first().at(1).toString().isEmpty());
    QCOMPARE(s.state(), SessionController::State::kNoModel);
    QVERIFY(!s.generate());
  }
};

QTEST_GUILESS_MAIN(SessionTest)
#include "session_test.moc"
