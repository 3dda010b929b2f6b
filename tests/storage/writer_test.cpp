// Round trips through the writer and the reader: everything written comes back, the aggregate
// tables equal what the rows give, and the statistics equal the policy library's own.
#include <gtest/gtest.h>

#include <cmath>

#include <fmt/format.h>
#include <thread>

#include "engine/common/error.h"
#include "engine/model/generator.h"
#include "engine/model/hparams.h"
#include "engine/model/routing_trace_recorder.h"
#include "engine/policy/allocators.h"
#include "engine/policy/policy_factory.h"
#include "engine/policy/prefetcher.h"
#include "engine/policy/routing_stats.h"
#include "engine/policy/synthetic_trace.h"
#include "storage/trace_reader.h"
#include "storage/trace_replay.h"
#include "tests/storage/storage_test_util.h"

namespace moescope::storage {
namespace {

using policy::PhaseFilter;

constexpr int32_t kChunk = 16;

policy::RoutingTrace make_trace(int64_t n_tokens = 300, int64_t n_prefill = 40) {
  policy::SyntheticSpec spec;
  spec.kind = policy::SyntheticSpec::Kind::kBursty;
  spec.n_layers = 4;
  spec.n_experts = 8;
  spec.top_k = 2;
  spec.n_tokens = n_tokens;
  spec.n_prefill = n_prefill;
  spec.affinity = 0.5;
  spec.seed = 7;
  policy::RoutingTrace trace = policy::synthetic_trace(spec);
  // Block 0 is dense: MoE layer m is block m + 1.
  for (int32_t l = 0; l < trace.n_layers(); ++l) trace.shape.model_layer[size_t(l)] = l + 1;
  trace.token_id.resize(size_t(trace.n_tokens()));
  for (int64_t t = 0; t < trace.n_tokens(); ++t) trace.token_id[size_t(t)] = int32_t(1000 + t);
  trace.validate();
  return trace;
}

PolicyDescription describe(const std::string& spec, const std::string& prefetcher,
                           policy::CacheCapacity capacity, bool primary) {
  PolicyDescription d;
  d.primary = primary;
  d.spec = spec;
  d.prefetcher = prefetcher;
  d.capacity = std::move(capacity);
  d.timing.link = policy::LinkModel::preset("nvme");
  return d;
}

// A policy simulated next to the recording by the test itself, its counters handed over through
// policy_report as a live cache would.
struct ExternalPolicy {
  policy::CacheSimulator sim;
  policy::AccessStream stream;
  size_t next_step = 0;
  void advance_to(int32_t end, const policy::RoutingTrace& trace) {
    std::vector<policy::TokenLayerRouting> routing;
    std::vector<ExpertId> experts;
    while (next_step < stream.steps.size() && stream.steps[next_step].first_token.value < end) {
      const policy::AccessStep& st = stream.steps[next_step++];
      routing.clear();
      for (int32_t u = 0; u < st.n_tokens; ++u) {
        routing.push_back(trace.routing(TokenPos(st.first_token.value + u), st.layer));
      }
      experts.clear();
      for (int64_t i = st.begin; i < st.end; ++i)
        experts.push_back(stream.accesses[size_t(i)].expert);
      sim.step({st.first_token, st.n_tokens, st.layer, st.phase, experts, routing, -1});
    }
  }
};

class StorageRoundTrip : public ::testing::Test {
 protected:
  void SetUp() override {
    trace_ = make_trace();
    path_ = test::temp_path("roundtrip.sqlite");
    WriterOptions options;
    options.router_logits = true;
    TraceWriter writer(path_, options);
    run_ = writer.begin_run(test::fake_run_info(trace_.shape, "round trip"));
    std::vector<int32_t> ids(trace_.token_id.begin(), trace_.token_id.begin() + 40);
    std::vector<std::string> pieces;
    for (int t = 0; t < 40; ++t) pieces.push_back(fmt::format("p{}", t));
    writer.prompt("a prompt with <b>markup</b> and ünïcödé", ids, pieces);

    primary_ = writer.simulate_policy(
        describe("lru", "same-prev", policy::CacheCapacity::uniform(4, 3), true), {}, true);
    shadow_ = writer.simulate_policy(
        describe("fifo-global", "affinity", policy::CacheCapacity::global_slots(12), false));
    external_ =
        writer.add_policy(describe("lfu", "none", policy::CacheCapacity::uniform(4, 2), false));
    ext_ = std::make_unique<ExternalPolicy>(ExternalPolicy{
        policy::CacheSimulator(trace_.shape, policy::CacheCapacity::uniform(4, 2),
                               policy::make_policy(policy::parse_policy_spec("lfu"), {}), nullptr,
                               {}, "lfu-external", "nothing"),
        policy::AccessStream::build(trace_, {kChunk})});

    TraceObserver observer(writer);
    test::play(writer, observer, trace_, kChunk, [&](int32_t first, int32_t n) {
      ext_->advance_to(first + n, trace_);
      if ((first + n) % 37 == 0) writer.policy_report(external_, ext_->sim.report(), false);
    });
    writer.policy_report(external_, ext_->sim.report(), true);
    writer.finish_run(R"({"stop_reason":"length"})");
  }

  policy::RoutingTrace trace_;
  std::filesystem::path path_;
  int64_t run_ = 0;
  int32_t primary_ = 0, shadow_ = 0, external_ = 0;
  std::unique_ptr<ExternalPolicy> ext_;
};

TEST_F(StorageRoundTrip, RunsAndMetadata) {
  TraceReader reader(path_);
  const std::vector<RunSummary> runs = reader.runs();
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].id, run_);
  EXPECT_EQ(runs[0].status, RunStatus::kComplete);
  EXPECT_EQ(runs[0].n_tokens, 300);
  EXPECT_EQ(runs[0].n_forwarded, 300);
  EXPECT_EQ(runs[0].n_prefill, 40);
  EXPECT_EQ(runs[0].n_moe_layers, 4);
  EXPECT_EQ(runs[0].policies, (std::vector<std::string>{"lru", "fifo-global", "lfu"}));
  EXPECT_EQ(reader.latest_run(), run_);

  const RunInfo want = test::fake_run_info(trace_.shape, "round trip");
  const RunInfo info = reader.run_info(run_);
  EXPECT_EQ(info.label, "round trip");
  EXPECT_EQ(info.model.path, want.model.path);
  EXPECT_EQ(info.model.sha256, want.model.sha256);
  EXPECT_EQ(info.model.file_bytes, want.model.file_bytes);
  EXPECT_EQ(info.model.quantization, want.model.quantization);
  EXPECT_EQ(info.model.n_model_layers, 5);
  EXPECT_EQ(info.model.gating, "softmax");
  EXPECT_TRUE(info.model.shape == trace_.shape);
  EXPECT_EQ(info.seed, want.seed);
  EXPECT_EQ(info.settings_json, want.settings_json);
  EXPECT_NE(info.machine_json.find("logical_cores"), std::string::npos);
  EXPECT_FALSE(info.moescope_version.empty());
  EXPECT_GT(info.started_unix_ns, 0);
  EXPECT_GE(info.ended_unix_ns, info.started_unix_ns);
  EXPECT_NE(info.summary_json.find("\"stop_reason\":\"length\""), std::string::npos);
  EXPECT_NE(info.summary_json.find("\"routing_rows\":2400"), std::string::npos);

  const auto prompts = reader.prompts(run_);
  ASSERT_EQ(prompts.size(), 1u);
  EXPECT_EQ(prompts[0].text, "a prompt with <b>markup</b> and ünïcödé");
  EXPECT_EQ(prompts[0].first_pos, 0);
  EXPECT_EQ(prompts[0].n_tokens, 40);
}

TEST_F(StorageRoundTrip, TokensRoutingAndTimings) {
  TraceReader reader(path_);
  const std::vector<TokenRecord> tokens = reader.tokens(run_);
  ASSERT_EQ(tokens.size(), 300u);
  const std::vector<int32_t> starts = test::call_starts(trace_, kChunk);
  EXPECT_EQ(reader.forward_calls(run_), starts);
  size_t call = 0;
  for (const TokenRecord& t : tokens) {
    SCOPED_TRACE(t.pos);
    EXPECT_EQ(t.token_id, 1000 + t.pos);
    // play() sends "<pos>" after the prompt's pieces, so the later text wins.
    EXPECT_EQ(t.text, fmt::format("<{}>", t.pos));
    EXPECT_EQ(t.phase, trace_.phase[size_t(t.pos)]);
    EXPECT_TRUE(t.forwarded);
    while (call + 1 < starts.size() && starts[call + 1] <= t.pos) ++call;
    EXPECT_EQ(t.chunk_first, starts[call]);
    EXPECT_LE(t.start_ns, t.end_ns);
    if (t.pos != t.chunk_first) {
      EXPECT_EQ(t.compute_ns, 0);
    }
  }

  // One row per (token, MoE layer, rank).
  const std::vector<RoutingEntry> rows = reader.routing(run_);
  ASSERT_EQ(rows.size(), size_t(300 * 4 * 2));
  for (const RoutingEntry& e : rows) {
    const auto experts = trace_.experts(TokenPos(e.pos), e.layer);
    const auto weights = trace_.routing(TokenPos(e.pos), e.layer).weights;
    ASSERT_LT(size_t(e.rank), experts.size());
    EXPECT_EQ(e.expert, experts[size_t(e.rank)]);
    EXPECT_EQ(e.weight, weights[size_t(e.rank)]);
    EXPECT_EQ(e.logit, test::fake_logit(e.pos, e.layer.value, e.expert.value));
  }
  EXPECT_EQ(reader.routing(run_, {10, 20}, MoeLayerId(2)).size(), size_t(10 * 2));

  // The routing trace comes back bit for bit.
  const policy::RoutingTrace back = reader.routing_trace(run_);
  EXPECT_TRUE(back.shape == trace_.shape);
  EXPECT_EQ(back.phase, trace_.phase);
  EXPECT_EQ(back.token_id, trace_.token_id);
  EXPECT_EQ(back.offsets, trace_.offsets);
  EXPECT_EQ(back.selected, trace_.selected);
  EXPECT_EQ(back.weights, trace_.weights);
  EXPECT_TRUE(back.probs.empty());

  // Router probabilities from the recorded logits.
  const policy::RoutingTrace with_probs = reader.routing_trace(run_, {.probs = true});
  std::vector<float> logits(8), probs(8);
  for (int32_t t : {0, 39, 40, 299}) {
    for (int32_t l = 0; l < 4; ++l) {
      for (int32_t e = 0; e < 8; ++e) logits[size_t(e)] = test::fake_logit(t, l, e);
      router_distribution(GatingFunc::Softmax, logits, probs);
      const auto got = with_probs.routing(TokenPos(t), MoeLayerId(l)).probs;
      EXPECT_TRUE(std::equal(got.begin(), got.end(), probs.begin())) << t << " " << l;
    }
  }

  // A layer timing per forward call and layer, compute time from it.
  const auto timings = reader.layer_timings(run_);
  EXPECT_EQ(timings.size(), starts.size() * 4);
  for (const LayerTiming& t : timings) EXPECT_GE(t.compute_ns, 0);
  const policy::RoutingTrace timed =
      reader.routing_trace(run_, {.compute = ComputeSource::kLayerTimings});
  ASSERT_EQ(timed.compute_ns.size(), size_t(300 * 4));

  const TokenExpertMatrix m = reader.token_expert(run_, MoeLayerId(2), {50, 120});
  ASSERT_EQ(m.positions.size(), 70u);
  for (int32_t r = 0; r < m.weights.rows; ++r) {
    const int32_t pos = m.positions[size_t(r)];
    EXPECT_EQ(pos, 50 + r);
    const auto route = trace_.routing(TokenPos(pos), MoeLayerId(2));
    for (int32_t e = 0; e < 8; ++e) {
      float want = 0;
      for (size_t i = 0; i < route.experts.size(); ++i)
        if (route.experts[i].value == e) want = route.weights[i];
      EXPECT_EQ(m.weights.at(r, e), want);
    }
  }
}

TEST_F(StorageRoundTrip, PolicyCountersEqualLiveAndReplay) {
  TraceReader reader(path_);
  const auto policies = reader.policies(run_);
  ASSERT_EQ(policies.size(), 3u);
  EXPECT_TRUE(policies[0].primary);
  EXPECT_EQ(policies[0].spec, "lru");
  EXPECT_EQ(policies[0].prefetcher, "same-prev");
  EXPECT_TRUE(policies[0].capacity == policy::CacheCapacity::uniform(4, 3));
  EXPECT_TRUE(policies[0].timing.link == policy::LinkModel::preset("nvme"));
  EXPECT_TRUE(policies[1].capacity == policy::CacheCapacity::global_slots(12));

  // The external policy's counters come back exactly as handed over.
  EXPECT_TRUE(reader.policy_report(run_, external_) == ext_->sim.report());

  // Simulated policies equal an independent replay of the same stream (prefill in chunks of 16).
  const auto stream = policy::AccessStream::build(trace_, {kChunk});
  for (int32_t id : {primary_, shadow_}) {
    SCOPED_TRACE(id);
    const PolicyDescription& d = policies[size_t(id)];
    policy::CacheSimulator sim(
        trace_.shape, d.capacity, policy::make_policy(policy::parse_policy_spec(d.spec), {}),
        policy::make_prefetcher(d.prefetcher, {}), d.timing, d.spec, d.prefetcher);
    const policy::CacheReport want = policy::replay(trace_, stream, sim);
    EXPECT_GT(want.total().hits, 0);
    EXPECT_GT(want.total().misses, 0);
    EXPECT_TRUE(reader.policy_report(run_, id) == want);
    EXPECT_TRUE(replay_recorded_policy(reader, run_, id) == want);
  }
  // The recorded stream is the library's stream for these chunks.
  const auto recorded = recorded_access_stream(trace_, reader.forward_calls(run_));
  EXPECT_EQ(recorded.accesses, stream.accesses);
  ASSERT_EQ(recorded.steps.size(), stream.steps.size());

  const auto slice = reader.policy_tokens(run_, shadow_, {100, 150});
  const auto all = reader.policy_tokens(run_, shadow_);
  ASSERT_EQ(slice.size(), 50u);
  for (size_t i = 0; i < slice.size(); ++i) EXPECT_TRUE(slice[i] == all[100 + i]);
  const std::vector<double> rate = cumulative_hit_rate(all);
  const policy::CacheCounters total = reader.policy_report(run_, shadow_).total();
  EXPECT_DOUBLE_EQ(rate.back(), total.hit_rate());
}

TEST_F(StorageRoundTrip, CacheEventsMatchThePrimaryCounters) {
  TraceReader reader(path_);
  const policy::CacheCounters c = reader.policy_report(run_, primary_).total();
  ASSERT_GT(c.prefetch_issued, 0);
  std::map<CacheEventKind, int64_t> kinds, rows;
  for (const CacheEvent& e : reader.cache_events(run_)) ++kinds[e.kind];
  for (const CacheEvent& e : reader.cache_events(run_, {}, false)) ++rows[e.kind];
  // Hits and plain misses live in routing.cache; only the step's last wait has a row.
  EXPECT_EQ(rows[CacheEventKind::kHit], 0);
  EXPECT_LT(rows[CacheEventKind::kMiss], kinds[CacheEventKind::kMiss]);
  EXPECT_EQ(rows[CacheEventKind::kEviction], kinds[CacheEventKind::kEviction]);
  EXPECT_EQ(kinds[CacheEventKind::kHit], c.hits - c.prefetch_used);
  EXPECT_EQ(kinds[CacheEventKind::kMiss], c.misses - c.bypasses);
  EXPECT_EQ(kinds[CacheEventKind::kBypass], c.bypasses);
  EXPECT_EQ(kinds[CacheEventKind::kEviction], c.evictions);
  EXPECT_EQ(kinds[CacheEventKind::kPrefetchIssued], c.prefetch_issued);
  EXPECT_EQ(kinds[CacheEventKind::kPrefetchUsed], c.prefetch_used);
  EXPECT_EQ(kinds[CacheEventKind::kLate], c.prefetch_late);
  EXPECT_EQ(kinds[CacheEventKind::kWasted], c.prefetch_wasted);

  int64_t hits = 0, misses = 0, prefetch_hits = 0;
  for (const RoutingEntry& e : reader.routing(run_)) {
    hits += is_hit(e.cache);
    misses += is_miss(e.cache);
    prefetch_hits += e.cache == AccessOutcome::kPrefetchHit || e.cache == AccessOutcome::kLateHit;
  }
  EXPECT_EQ(hits, c.hits);
  EXPECT_EQ(misses, c.misses);
  EXPECT_EQ(prefetch_hits, c.prefetch_used);
}

TEST_F(StorageRoundTrip, AggregatesEqualTheRowsAndTheLibrary) {
  TraceReader reader(path_);
  for (PhaseFilter f : {PhaseFilter::kAll, PhaseFilter::kPrefill, PhaseFilter::kDecode}) {
    SCOPED_TRACE(int(f));
    const ExpertMatrices stored = reader.expert_matrices(run_, f);
    const ExpertMatrices rows = reader.expert_matrices(run_, f, true);
    EXPECT_EQ(stored.activations.values, rows.activations.values);
    EXPECT_EQ(stored.top1.values, rows.top1.values);
    EXPECT_EQ(stored.hits.values, rows.hits.values);
    EXPECT_EQ(stored.misses.values, rows.misses.values);
    for (size_t i = 0; i < stored.mean_weight.values.size(); ++i) {
      const double a = stored.mean_weight.values[i], b = rows.mean_weight.values[i];
      EXPECT_TRUE((std::isnan(a) && std::isnan(b)) || std::abs(a - b) < 1e-9);
    }

    const policy::RoutingStats lib = policy::routing_stats(trace_, f);
    const auto agg = reader.layer_aggregates(run_, f);
    const auto agg_rows = reader.layer_aggregates(run_, f, true);
    ASSERT_EQ(agg.size(), 4u);
    for (int32_t l = 0; l < 4; ++l) {
      SCOPED_TRACE(l);
      const auto& a = agg[size_t(l)];
      const auto& b = agg_rows[size_t(l)];
      const auto& want = lib.layers[size_t(l)];
      EXPECT_EQ(a.model_layer, l + 1);
      EXPECT_EQ(a.tokens, want.tokens);
      EXPECT_EQ(b.tokens, want.tokens);
      EXPECT_EQ(a.activations, want.activations);
      EXPECT_DOUBLE_EQ(a.jain_fairness, want.jain_fairness);
      EXPECT_NEAR(a.load_entropy_bits, want.load_entropy_bits, 1e-12);
      EXPECT_EQ(a.hot_set_80, want.hot_set_80);
      for (int32_t e = 0; e < 8; ++e) EXPECT_EQ(stored.activations.at(l, e), want.load[size_t(e)]);
      EXPECT_EQ(a.hits, b.hits);
      EXPECT_EQ(a.misses, b.misses);
      EXPECT_EQ(a.compute_ns, b.compute_ns);
      EXPECT_EQ(a.stall_ns, b.stall_ns);
    }
    for (int32_t l = 0; l + 1 < 4; ++l) {
      const AffinityMatrix s = reader.affinity(run_, MoeLayerId(l), f);
      const AffinityMatrix r = reader.affinity(run_, MoeLayerId(l), f, true);
      EXPECT_EQ(s.counts.values, r.counts.values);
      EXPECT_EQ(s.conditional.values, policy::affinity_matrix(trace_, MoeLayerId(l), f));
    }
  }
  EXPECT_THROW(reader.affinity(run_, MoeLayerId(3)), Error);
}

// Outcomes reported before their routing arrives, in the same transaction, and after it was
// committed, all land in the routing rows and the aggregates.
TEST(StorageWriter, CacheOutcomesArriveBeforeOrAfterTheirRouting) {
  const policy::RoutingTrace trace = make_trace(60, 0);
  const auto path = test::temp_path("outcomes.sqlite");
  auto hit_of = [&](int32_t pos) {
    const ExpertId e = trace.experts(TokenPos(pos), MoeLayerId(1))[0];
    return CacheEvent{CacheEventKind::kHit, pos, MoeLayerId(1), e};
  };
  auto miss_of = [&](int32_t pos) {
    const ExpertId e = trace.experts(TokenPos(pos), MoeLayerId(1))[1];
    return CacheEvent{CacheEventKind::kMiss, pos, MoeLayerId(1), e, 4096, 1000, 5};
  };
  int64_t run = 0;
  {
    TraceWriter writer(path);
    run = writer.begin_run(test::fake_run_info(trace.shape));
    TraceObserver observer(writer);
    test::play(writer, observer, trace, 0, [&](int32_t first, int32_t) {
      if (first == 5) {
        // For tokens not seen yet, for the one just seen, and for committed ones.
        const CacheEvent early[] = {hit_of(50), miss_of(50), hit_of(5), miss_of(5)};
        writer.cache_events(early);
      }
      if (first == 20) {
        writer.flush();
        const CacheEvent late[] = {hit_of(2), miss_of(2)};
        writer.cache_events(late);
      }
    });
    const CacheEvent nowhere[] = {{CacheEventKind::kHit, 1000, MoeLayerId(1), ExpertId(0)}};
    writer.cache_events(nowhere);
    writer.finish_run();
  }
  TraceReader reader(path);
  for (int32_t pos : {2, 5, 50}) {
    const auto rows = reader.routing(run, {pos, pos + 1}, MoeLayerId(1));
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[0].cache, AccessOutcome::kHit) << pos;
    EXPECT_EQ(rows[1].cache, AccessOutcome::kMiss) << pos;
  }
  EXPECT_EQ(reader.routing(run, {3, 4}, MoeLayerId(1))[0].cache, AccessOutcome::kNone);
  const auto rows_only = reader.cache_events(run, {}, false);
  ASSERT_EQ(rows_only.size(), 3u);  // the three misses: they waited
  EXPECT_EQ(rows_only[0], miss_of(2));
  const auto events = reader.cache_events(run, {50, 51});
  ASSERT_EQ(events.size(), 2u);  // with the hit from the routing row
  EXPECT_EQ(events[0], miss_of(50));
  EXPECT_EQ(events[1],
            (CacheEvent{CacheEventKind::kHit, 50, MoeLayerId(1), hit_of(50).expert, 0, 0, -1}));
  const ExpertMatrices stored = reader.expert_matrices(run);
  const ExpertMatrices rows = reader.expert_matrices(run, PhaseFilter::kAll, true);
  EXPECT_EQ(stored.hits.values, rows.hits.values);
  EXPECT_EQ(stored.misses.values, rows.misses.values);
  int64_t hits = 0;
  for (int64_t h : stored.hits.values) hits += h;
  EXPECT_EQ(hits, 3);
  EXPECT_NE(reader.run_info(run).summary_json.find("\"unmatched_outcomes\":1"), std::string::npos);
}

TEST(StorageWriter, AppendsRunsAndLeavesUnfinishedOnesInterrupted) {
  const policy::RoutingTrace trace = make_trace(80, 10);
  const auto path = test::temp_path("runs.sqlite");
  int64_t a = 0, b = 0, c = 0;
  {
    TraceWriter writer(path);
    TraceObserver observer(writer);
    a = writer.begin_run(test::fake_run_info(trace.shape, "a"));
    test::play(writer, observer, trace, 0);
    writer.finish_run();
    b = writer.begin_run(test::fake_run_info(trace.shape, "b"));
    writer.simulate_policy(describe("lru", "none", policy::CacheCapacity::uniform(4, 2), true));
    test::play(writer, observer, trace, 4);
    writer.token(80, 7, "end");  // sampled, never forwarded
    // destroyed without finish_run
  }
  {
    TraceWriter writer(path);
    TraceObserver observer(writer);
    c = writer.begin_run(test::fake_run_info(trace.shape, "c"));
    const std::vector<int32_t> prompt(trace.token_id.begin(), trace.token_id.begin() + 10);
    writer.prompt("ten tokens", prompt);
    test::play(writer, observer, trace, 0);
    // Generated token 70 follows the 10 prompt tokens and 70 decoded ones.
    writer.generated(TokenEvent{42, 70, "x", 0});
    writer.generated(TokenEvent{-1, 70, "yz", 0});
    writer.finish_run();
  }
  TraceReader reader(path);
  const auto runs = reader.runs();
  ASSERT_EQ(runs.size(), 3u);
  EXPECT_EQ(runs[0].status, RunStatus::kComplete);
  EXPECT_EQ(runs[1].status, RunStatus::kInterrupted);
  EXPECT_EQ(runs[2].status, RunStatus::kComplete);
  EXPECT_EQ(runs[1].label, "b");
  EXPECT_EQ(reader.latest_run(), c);
  EXPECT_EQ(reader.run_info(b).ended_unix_ns, 0);
  // The interrupted run holds everything its writer committed when it closed.
  EXPECT_EQ(runs[1].n_forwarded, 80);
  EXPECT_EQ(reader.routing_trace(b).selected, trace.selected);
  EXPECT_EQ(reader.layer_aggregates(b)[0].activations, reader.layer_aggregates(a)[0].activations);
  EXPECT_EQ(reader.affinity(b, MoeLayerId(0)).counts.values,
            reader.affinity(a, MoeLayerId(0)).counts.values);
  // Its policy report is the token counters (no per-layer table), which sum to the replay's.
  const policy::CacheReport partial = reader.policy_report(b, 0);
  const policy::CacheReport replayed = replay_recorded_policy(reader, b, 0);
  EXPECT_TRUE(partial.token == replayed.token);
  EXPECT_TRUE(partial.phase == replayed.phase);
  EXPECT_TRUE(partial.layer[0].empty());
  // The last generated token has no forward pass; the held-back text joins it.
  const auto tail = reader.tokens(c, {80, 81});
  ASSERT_EQ(tail.size(), 1u);
  EXPECT_EQ(tail[0].token_id, 42);
  EXPECT_EQ(tail[0].text, "xyz");
  EXPECT_FALSE(tail[0].forwarded);
  EXPECT_EQ(reader.routing_trace(c).n_tokens(), 80);
}

TEST(StorageWriter, AbortedRunsStayInterrupted) {
  const policy::RoutingTrace trace = make_trace(30, 5);
  const auto path = test::temp_path("aborted.sqlite");
  int64_t a = 0, b = 0;
  {
    TraceWriter writer(path);
    TraceObserver observer(writer);
    a = writer.begin_run(test::fake_run_info(trace.shape, "fails"));
    test::play(writer, observer, trace, 0);
    writer.abort_run("the prompt was too long");
    EXPECT_FALSE(writer.recording());
    b = writer.begin_run(test::fake_run_info(trace.shape, "next"));
    test::play(writer, observer, trace, 0);
    writer.finish_run();
  }
  TraceReader reader(path);
  const RunInfo info = reader.run_info(a);
  EXPECT_EQ(info.status, RunStatus::kInterrupted);
  EXPECT_NE(info.summary_json.find("the prompt was too long"), std::string::npos);
  EXPECT_EQ(reader.routing_trace(a).selected, trace.selected);
  EXPECT_EQ(reader.run_info(b).status, RunStatus::kComplete);
  EXPECT_EQ(reader.expert_matrices(a).activations.values,
            reader.expert_matrices(b).activations.values);
}

TEST(StorageWriter, RejectsCallsOutOfOrder) {
  const policy::RoutingTrace trace = make_trace(20, 0);
  const auto path = test::temp_path("reject.sqlite");
  TraceWriter writer(path);
  ForwardRecord r;
  EXPECT_THROW(writer.forward(std::move(r)), Error);
  EXPECT_THROW(writer.prompt("x", {}), Error);
  writer.begin_run(test::fake_run_info(trace.shape));
  EXPECT_THROW(writer.begin_run(test::fake_run_info(trace.shape)), Error);

  auto record = [&](int32_t first, int32_t expert) {
    ForwardRecord f;
    f.first_pos = first;
    f.n_tokens = 1;
    f.n_layers = 4;
    f.k_max = 2;
    f.count.assign(4, 2);
    f.experts.assign(8, ExpertId(0));
    for (size_t i = 1; i < 8; i += 2) f.experts[i] = ExpertId(expert);
    f.weights.assign(8, 0.5f);
    f.logits.assign(8, 0.0f);
    return f;
  };
  EXPECT_THROW(writer.forward(record(3, 1)), Error);  // must start at 0
  EXPECT_THROW(writer.forward(record(0, 8)), Error);  // no expert 8
  writer.forward(record(0, 1));
  EXPECT_THROW(writer.forward(record(0, 1)), Error);  // position 0 again
  ForwardRecord bad = record(1, 1);
  bad.weights.pop_back();
  EXPECT_THROW(writer.forward(std::move(bad)), Error);
  EXPECT_THROW(writer.policy_tokens(3, 0, std::vector<policy::CacheCounters>(1)), Error);
  EXPECT_THROW(writer.simulate_policy(
                   describe("belady", "none", policy::CacheCapacity::uniform(4, 2), true)),
               Error);
  EXPECT_THROW(
      writer.simulate_policy(describe("lru", "none", policy::CacheCapacity::uniform(3, 2), true)),
      Error);
  writer.finish_run();
  EXPECT_EQ(TraceReader(path).runs().at(0).n_forwarded, 1);
}

// Many producers at once, a queue small enough to push back: nothing is lost or torn. Run under
// TSan by tools/sanitize.sh thread.
TEST(StorageWriter, ConcurrentProducersWithBackpressure) {
  const policy::RoutingTrace trace = make_trace(400, 32);
  const auto path = test::temp_path("concurrent.sqlite");
  WriterOptions options;
  options.max_queue_bytes = 16 << 10;
  options.flush_interval = std::chrono::milliseconds(20);
  int64_t run = 0;
  std::atomic<int32_t> played{0};
  constexpr int kEventsPerThread = 2000;
  {
    TraceWriter writer(path, options);
    run = writer.begin_run(test::fake_run_info(trace.shape));
    const int32_t policy =
        writer.add_policy(describe("lru", "none", policy::CacheCapacity::uniform(4, 2), true));
    std::thread forward([&] {
      TraceObserver observer(writer);
      test::play(writer, observer, trace, 8, [&](int32_t first, int32_t n) {
        played.store(first + n);
        if (first % 50 == 0) writer.flush();
      });
    });
    std::vector<std::thread> others;
    for (int k = 0; k < 3; ++k) {
      others.emplace_back([&, k] {
        for (int i = 0; i < kEventsPerThread; ++i) {
          const int32_t pos = (i * 7 + k) % 400;
          const CacheEvent e{
              CacheEventKind::kEviction, pos, MoeLayerId(i % 4), ExpertId(i % 8), 0, 0, i};
          writer.cache_events({&e, 1});
          if (i % 100 == 0) {
            policy::CacheCounters c;
            c.accesses = 1;
            c.hits = k;
            writer.policy_tokens(policy, 1000 + k * 100 + i / 100, {&c, 1});
          }
        }
      });
    }
    forward.join();
    for (auto& t : others) t.join();
    EXPECT_GT(writer.stats().commits, 2);
    writer.finish_run();
  }
  TraceReader reader(path);
  EXPECT_EQ(reader.cache_events(run).size(), size_t(3 * kEventsPerThread));
  EXPECT_EQ(reader.routing_trace(run).selected, trace.selected);
  EXPECT_EQ(reader.policy_tokens(run, 0).size(), size_t(1000 + 2 * 100 + 20));
}

}  // namespace
}  // namespace moescope::storage
