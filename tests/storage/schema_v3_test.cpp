// Schema 3 (requests, steps, imported and counts-only runs) and its migration from real schema-1
// and schema-2 files: the old DDL makes the file, recorded runs fill it, the reader upgrades it
// in place with every old row intact, request 0 for every token and steps numbered by forward
// call. Also: a new run with several requests and explicit steps, streamed back with its requests,
// and a counts-only run.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "storage/schema.h"
#include "storage/sqlite_db.h"
#include "storage/trace_reader.h"
#include "storage/trace_replay.h"
#include "storage/trace_writer.h"
#include "tests/storage/schema_test_util.h"
#include "tests/storage/storage_test_util.h"

namespace moescope::storage {
namespace {

// What the v3 step must give a recorded run's tokens: the forward calls (chunk_first of the
// forwarded tokens) numbered 0, 1, 2, ... in order; NULL (-1) for tokens never forwarded.
std::map<int64_t, std::map<int32_t, int32_t>> expected_steps(Database& db) {
  std::map<int64_t, std::set<int32_t>> calls;
  std::map<int64_t, std::map<int32_t, int32_t>> chunk_of;
  Statement st(db, "SELECT run, pos, forwarded, chunk_first FROM tokens");
  while (st.step()) {
    if (st.int64(2)) {
      calls[st.int64(0)].insert(st.int32(3));
      chunk_of[st.int64(0)][st.int32(1)] = st.int32(3);
    } else {
      chunk_of[st.int64(0)][st.int32(1)] = -1;
    }
  }
  std::map<int64_t, std::map<int32_t, int32_t>> out;
  for (auto& [run, tokens] : chunk_of) {
    const std::vector<int32_t> ordered(calls[run].begin(), calls[run].end());
    for (auto [pos, chunk] : tokens) {
      out[run][pos] = chunk < 0 ? -1
                                : int32_t(std::lower_bound(ordered.begin(), ordered.end(), chunk) -
                                          ordered.begin());
    }
  }
  return out;
}

void check_upgrade(int32_t from) {
  SCOPED_TRACE(from);
  const auto path = test::make_old_trace("v" + std::to_string(from) + "_to_v3.sqlite", 2, from);
  test::Contents before;
  std::map<int64_t, std::map<int32_t, int32_t>> steps;
  std::map<int64_t, std::string> prompt_text;
  {
    Database db(path, Database::Mode::kReadOnly);
    ASSERT_EQ(db.query_int("PRAGMA user_version"), from);
    EXPECT_FALSE(db.has_table("requests"));
    before = test::contents(db);
    steps = expected_steps(db);
    ASSERT_EQ(steps.size(), 2u);
    Statement st(db, "SELECT run, text FROM prompts ORDER BY run, idx");
    while (st.step()) prompt_text[st.int64(0)] += st.text(1);
  }
  std::map<int64_t, policy::RoutingTrace> routing;
  {
    TraceReader old(path, {.upgrade = false});
    for (const RunSummary& r : old.runs()) routing[r.id] = old.routing_trace(r.id);
  }

  TraceReader reader(path);
  EXPECT_EQ(reader.schema_version(), kSchemaVersion);  // through v3 to the current schema
  {
    Database db(path, Database::Mode::kReadOnly);
    EXPECT_EQ(db.query_int("PRAGMA user_version"), kSchemaVersion);
    test::expect_rows_intact(db, before, from, "v" + std::to_string(from) + "_shape.sqlite");
    EXPECT_EQ(db.query_int("SELECT count(*) FROM tokens WHERE request <> 0"), 0);
    EXPECT_EQ(db.query_int("SELECT count(*) FROM step_expert_counts"), 0);
    EXPECT_EQ(db.query_int("SELECT count(*) FROM runs WHERE source_format IS NOT NULL OR "
                           "routing_detail <> 'tokens'"),
              0);
  }
  for (const auto& [run, by_pos] : steps) {
    const std::vector<TokenRecord> tokens = reader.tokens(run);
    ASSERT_EQ(tokens.size(), by_pos.size());
    for (const TokenRecord& t : tokens) {
      EXPECT_EQ(t.request, 0);
      EXPECT_EQ(t.step, by_pos.at(t.pos)) << "run " << run << " pos " << t.pos;
    }
    const std::vector<RequestRecord> requests = reader.requests(run);
    ASSERT_EQ(requests.size(), 1u);
    EXPECT_EQ(requests[0].id, 0);
    EXPECT_EQ(requests[0].n_tokens, int32_t(tokens.size()));
    EXPECT_EQ(requests[0].has_prompt, prompt_text.count(run) > 0);
    if (prompt_text.count(run)) {
      EXPECT_EQ(requests[0].prompt, prompt_text[run]);
    }
    EXPECT_FALSE(reader.run_info(run).imported());
    EXPECT_TRUE(reader.token_routing_unavailable(run).empty());
    const policy::RoutingTrace upgraded = reader.routing_trace(run);
    EXPECT_EQ(upgraded.selected, routing[run].selected);
    EXPECT_EQ(upgraded.offsets, routing[run].offsets);
    const std::vector<int32_t> requests_of = reader.token_requests(run);
    EXPECT_EQ(requests_of, std::vector<int32_t>(size_t(upgraded.n_tokens()), 0));
    const policy::CacheReport recorded = reader.policy_report(run, 0);
    EXPECT_TRUE(replay_recorded_policy(reader, run, 0) == recorded);
  }
}

TEST(StorageSchemaV3, RealV1AndV2TracesAreUpgradedWithEveryRowIntact) {
  check_upgrade(1);
  check_upgrade(2);
}

TEST(StorageSchemaV3, ANewFileAndAnUpgradedOneHaveTheSameSchema) {
  const auto upgraded = test::make_old_trace("v2_same.sqlite", 1, 2);
  { TraceReader r(upgraded); }
  const auto fresh = test::temp_path("v3_fresh.sqlite");
  test::record_runs(fresh, 1);
  EXPECT_EQ(test::schema_ddl(upgraded), test::schema_ddl(fresh));
}

// A run of two interleaved requests in three steps, as a batching engine or an importer writes
// it; read back token by token with request and step.
TEST(StorageSchemaV3, RequestsAndStepsOfABatchedRunAreReadBack) {
  const auto path = test::temp_path("batched.sqlite");
  const policy::MoeShape shape = policy::MoeShape::uniform(2, 4, 2, 1000);
  {
    TraceWriter writer(path);
    RunInfo info = test::fake_run_info(shape, "batched");
    info.source = {"routed-experts-sglang", "/data/r.jsonl", std::string(64, 'b'), 77};
    writer.begin_run(info);
    writer.request({0, true, "hello", R"({"line":1})", 0});
    writer.request({1, false, "", R"({"line":2})", 0});
    // step 5: tokens 0,1 of request 0 and token 0 of request 1; step 6: one token of each.
    auto call = [&](int32_t first, std::vector<int32_t> requests, int32_t step,
                    std::vector<int32_t> experts) {
      ForwardRecord r;
      r.first_pos = first;
      r.n_tokens = int32_t(requests.size());
      r.phase = requests.size() > 1 ? Phase::kPrefill : Phase::kDecode;
      r.n_layers = 2;
      r.k_max = 2;
      for (int32_t e : experts) r.experts.push_back(ExpertId(e));
      r.weights.assign(experts.size(), 0.5f);
      r.logits.assign(experts.size(), 0.0f);
      r.count.assign(size_t(r.n_tokens) * 2, 2);
      r.requests = std::move(requests);
      r.step = step;
      writer.forward(std::move(r));
    };
    call(0, {0, 0, 1}, 5, {0, 1, 2, 3, 1, 2, 3, 0, 0, 3, 1, 2});
    call(3, {0, 1}, 6, {3, 2, 1, 0, 2, 1, 0, 3});
    writer.finish_run();
  }
  TraceReader reader(path);
  const int64_t run = reader.latest_run();
  const RunInfo info = reader.run_info(run);
  EXPECT_TRUE(info.imported());
  EXPECT_EQ(info.source.format, "routed-experts-sglang");
  EXPECT_EQ(info.source.path, "/data/r.jsonl");
  EXPECT_EQ(info.source.bytes, 77u);
  const std::vector<RequestRecord> q = reader.requests(run);
  ASSERT_EQ(q.size(), 2u);
  EXPECT_TRUE(q[0].has_prompt);
  EXPECT_EQ(q[0].prompt, "hello");
  EXPECT_EQ(q[0].n_tokens, 3);
  EXPECT_FALSE(q[1].has_prompt);
  EXPECT_EQ(q[1].source_json, R"({"line":2})");
  EXPECT_EQ(q[1].n_tokens, 2);
  EXPECT_EQ(reader.token_requests(run), (std::vector<int32_t>{0, 0, 1, 0, 1}));
  EXPECT_EQ(reader.token_steps(run), (std::vector<int32_t>{5, 5, 5, 6, 6}));
  std::vector<std::tuple<int32_t, int32_t, int32_t, int32_t, int32_t>> seen;
  reader.scan_token_routing(run, [&](const TokenRouting& t) {
    seen.emplace_back(t.pos, t.request, t.step, t.experts(0)[0].value, t.experts(1)[1].value);
  });
  const std::vector<std::tuple<int32_t, int32_t, int32_t, int32_t, int32_t>> want = {
      {0, 0, 5, 0, 3}, {1, 0, 5, 1, 0}, {2, 1, 5, 0, 2}, {3, 0, 6, 3, 0}, {4, 1, 6, 2, 3}};
  EXPECT_EQ(seen, want);
}

TEST(StorageSchemaV3, ACountsOnlyRunKeepsItsStepsAndSaysWhatItCannotDo) {
  const auto path = test::temp_path("counts.sqlite");
  const policy::MoeShape shape = policy::MoeShape::uniform(2, 3, 2, 1);
  {
    TraceWriter writer(path);
    RunInfo info = test::fake_run_info(shape, "stat");
    info.source = {"sglang-pt-stat", "/tmp/stat.pt", std::string(64, 'c'), 10};
    info.routing_detail = RoutingDetail::kCounts;
    writer.begin_run(info);
    writer.step_expert_counts({0, {4, 0, 2, 1, 3, 2}});
    writer.step_expert_counts({1, {0, 6, 0, 2, 2, 2}});
    writer.finish_run();
  }
  TraceReader reader(path);
  const int64_t run = reader.latest_run();
  const std::vector<StepExpertCounts> steps = reader.step_expert_counts(run);
  ASSERT_EQ(steps.size(), 2u);
  EXPECT_EQ(steps[1].counts, (std::vector<int64_t>{0, 6, 0, 2, 2, 2}));
  EXPECT_EQ(reader.run_info(run).routing_detail, RoutingDetail::kCounts);
  EXPECT_NE(reader.token_routing_unavailable(run).find("expert counts per step only"),
            std::string::npos);
  const ExpertMatrices m = reader.expert_matrices(run);
  EXPECT_EQ(m.activations.at(0, 0), 4);
  EXPECT_EQ(m.activations.at(0, 1), 6);
  EXPECT_EQ(m.activations.at(1, 2), 4);
  EXPECT_TRUE(reader.tokens(run).empty());
}

TEST(StorageSchemaV3, TheWriterRefusesBadRequestsAndCounts) {
  const auto path = test::temp_path("bad_requests.sqlite");
  const policy::MoeShape shape = policy::MoeShape::uniform(1, 2, 1, 1);
  TraceWriter writer(path);
  writer.begin_run(test::fake_run_info(shape));
  test::expect_error([&] { writer.request({-1, false, "", "{}", 0}); }, "negative");
  test::expect_error([&] { writer.step_expert_counts({0, {1, 2, 3}}); }, "for 3 experts");
  ForwardRecord r;
  r.n_tokens = 2;
  r.n_layers = 1;
  r.k_max = 1;
  r.experts = {ExpertId(0), ExpertId(1)};
  r.weights = {1, 1};
  r.logits = {0, 0};
  r.count = {1, 1};
  r.requests = {0};
  test::expect_error([&] { writer.forward(std::move(r)); }, "names 1 requests");
  writer.finish_run();
}

}  // namespace
}  // namespace moescope::storage
