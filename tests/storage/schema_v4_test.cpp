// Schema 4 (router candidates: the top-2k router probabilities of every token of a run under
// capacity-aware gating) and its migration from real schema-1, -2 and -3 files: the old DDL makes
// the file, recorded runs fill it, the reader upgrades it in place with every old row intact and
// no candidates. Also: candidates written by hand come back per position (and in the JSON
// export), damaged rows are named, and deleting a run deletes its candidates.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "engine/common/error.h"
#include "storage/export/export.h"
#include "storage/router_candidates.h"
#include "storage/run_deletion.h"
#include "storage/schema.h"
#include "storage/sqlite_db.h"
#include "storage/trace_reader.h"
#include "storage/trace_replay.h"
#include "storage/trace_writer.h"
#include "tests/storage/schema_test_util.h"
#include "tests/storage/storage_test_util.h"

namespace moescope::storage {
namespace {

void check_upgrade(int32_t from) {
  SCOPED_TRACE(from);
  const auto path = test::make_old_trace("v" + std::to_string(from) + "_to_v4.sqlite", 2, from);
  test::Contents before;
  {
    Database db(path, Database::Mode::kReadOnly);
    ASSERT_EQ(db.query_int("PRAGMA user_version"), from);
    EXPECT_FALSE(db.has_table("router_candidates"));
    before = test::contents(db);
  }
  std::map<int64_t, policy::RoutingTrace> routing;
  {
    // The old file read as it is (no upgrade): no candidates, nothing fails.
    TraceReader old(path, {.upgrade = false});
    for (const RunSummary& r : old.runs()) {
      routing[r.id] = old.routing_trace(r.id);
      EXPECT_FALSE(old.has_router_candidates(r.id));
      EXPECT_TRUE(old.router_candidates(r.id).empty());
    }
  }

  TraceReader reader(path);
  EXPECT_EQ(reader.schema_version(), 4);
  {
    Database db(path, Database::Mode::kReadOnly);
    EXPECT_EQ(db.query_int("PRAGMA user_version"), 4);
    EXPECT_EQ(db.query_int("SELECT count(*) FROM router_candidates"), 0);
    // Every row of every table the old file had, in the old file's columns.
    test::expect_rows_intact(db, before, from, "v" + std::to_string(from) + "_shape4.sqlite");
  }
  ASSERT_EQ(routing.size(), 2u);
  for (const auto& [run, trace] : routing) {
    EXPECT_FALSE(reader.has_router_candidates(run));
    EXPECT_TRUE(reader.router_candidates(run).empty());
    const policy::RoutingTrace upgraded = reader.routing_trace(run);
    EXPECT_EQ(upgraded.selected, trace.selected);
    EXPECT_EQ(upgraded.offsets, trace.offsets);
    EXPECT_TRUE(replay_recorded_policy(reader, run, 0) == reader.policy_report(run, 0));
  }
}

TEST(StorageSchemaV4, RealV1V2AndV3TracesAreUpgradedWithEveryRowIntact) {
  check_upgrade(1);
  check_upgrade(2);
  check_upgrade(3);
}

TEST(StorageSchemaV4, ANewFileAndAnUpgradedOneHaveTheSameSchema) {
  const auto upgraded = test::make_old_trace("v3_same.sqlite", 1, 3);
  { TraceReader r(upgraded); }
  const auto fresh = test::temp_path("v4_fresh.sqlite");
  test::record_runs(fresh, 1);
  EXPECT_EQ(test::schema_ddl(upgraded), test::schema_ddl(fresh));
}

TEST(StorageSchemaV4, TopCandidatesAreTheMostProbableExpertsBestFirst) {
  // Ties (0.4, 0.4 and 0.05, 0.05) keep the lower index first.
  const std::vector<float> probs = {0.1f, 0.4f, 0.4f, 0.05f, 0.05f};
  std::vector<ExpertId> e(3);
  std::vector<float> s(3);
  top_router_candidates(probs, 3, e.data(), s.data());
  EXPECT_EQ(e, (std::vector<ExpertId>{ExpertId(1), ExpertId(2), ExpertId(0)}));
  EXPECT_EQ(s, (std::vector<float>{0.4f, 0.4f, 0.1f}));
  EXPECT_THROW(top_router_candidates(probs, 6, e.data(), s.data()), Error);
  // m(l) = min(2k, E): 2·2 = 4 of 5 experts; 2·2 = 4 > 3 experts: all 3.
  policy::MoeShape shape = policy::MoeShape::uniform(2, 5, 2, 100);
  shape.n_experts[1] = 3;
  shape.validate();
  EXPECT_EQ(router_candidates_at(shape, 0), 4);
  EXPECT_EQ(router_candidates_at(shape, 1), 3);
  EXPECT_EQ(router_candidate_offsets(shape), (std::vector<int64_t>{0, 4, 7}));
}

// Two forwarded tokens with candidates (4 at layer 0, 3 at layer 1), and one run without.
TEST(StorageSchemaV4, CandidatesAreReadBackExportedAndDeletedWithTheirRun) {
  const auto path = test::temp_path("candidates.sqlite");
  policy::MoeShape shape = policy::MoeShape::uniform(2, 5, 2, 1000);
  shape.n_experts[1] = 3;
  shape.validate();
  const std::vector<int32_t> experts = {4, 1, 0, 2, 2, 0, 1,   // token 0: layer 0, layer 1
                                        3, 4, 1, 0, 1, 2, 0};  // token 1
  const std::vector<float> scores = {0.5f, 0.2f, 0.15f, 0.1f,  0.7f, 0.2f, 0.1f,
                                     0.6f, 0.3f, 0.05f, 0.03f, 0.5f, 0.3f, 0.2f};
  auto call = [&](TraceWriter& writer, bool with_candidates) {
    ForwardRecord r;
    r.first_pos = 0;
    r.n_tokens = 2;
    r.phase = Phase::kPrefill;
    r.n_layers = 2;
    r.k_max = 2;
    // The routing: each token's first two candidates.
    for (int t = 0; t < 2; ++t) {
      for (int at : {0, 1, 4, 5}) r.experts.push_back(ExpertId(experts[size_t(t * 7 + at)]));
    }
    r.weights.assign(8, 0.5f);
    r.logits.assign(8, 0.0f);
    r.count.assign(4, 2);
    if (with_candidates) {
      for (int32_t e : experts) r.candidates.push_back(ExpertId(e));
      r.candidate_scores = scores;
    }
    writer.forward(std::move(r));
  };
  {
    TraceWriter writer(path);
    writer.begin_run(test::fake_run_info(shape, "with"));
    call(writer, true);
    writer.finish_run();
    writer.begin_run(test::fake_run_info(shape, "without"));
    call(writer, false);
    writer.finish_run();
    // Candidates of the wrong size are refused.
    writer.begin_run(test::fake_run_info(shape, "bad"));
    ForwardRecord bad;
    bad.n_tokens = 1;
    bad.n_layers = 2;
    bad.k_max = 2;
    bad.experts.assign(4, ExpertId(0));
    bad.weights.assign(4, 0.5f);
    bad.logits.assign(4, 0.0f);
    bad.count.assign(2, 2);
    bad.candidates.assign(6, ExpertId(0));
    bad.candidate_scores.assign(6, 0.0f);
    EXPECT_THROW(writer.forward(std::move(bad)), Error);
  }
  TraceReader reader(path);
  ASSERT_EQ(reader.runs().size(), 3u);
  const int64_t with = reader.runs()[0].id, without = reader.runs()[1].id;
  EXPECT_TRUE(reader.has_router_candidates(with));
  EXPECT_FALSE(reader.has_router_candidates(without));
  EXPECT_TRUE(reader.router_candidates(without).empty());
  const std::vector<RouterCandidates> c = reader.router_candidates(with);
  ASSERT_EQ(c.size(), 2u);
  for (int t = 0; t < 2; ++t) {
    EXPECT_EQ(c[size_t(t)].pos, t);
    for (size_t i = 0; i < 7; ++i) {
      EXPECT_EQ(c[size_t(t)].experts[i].value, experts[size_t(t) * 7 + i]);
      EXPECT_EQ(c[size_t(t)].scores[i], scores[size_t(t) * 7 + i]);
    }
  }
  EXPECT_EQ(reader.router_candidates(with, {1, 2}).size(), 1u);

  // The JSON export gives each token its candidates per layer; a run without has no key.
  ExportOptions json;
  json.format = ExportFormat::kJson;
  std::ostringstream out;
  export_run(reader, with, json, out);
  const nlohmann::json doc = nlohmann::json::parse(out.str());
  const nlohmann::json& t1 = doc.at("tokens").at(1).at("candidates");
  EXPECT_EQ(t1.at("experts"), nlohmann::json::parse("[[3,4,1,0],[1,2,0]]"));
  EXPECT_FLOAT_EQ(t1.at("scores").at(1).at(2).get<float>(), 0.2f);
  std::ostringstream plain;
  export_run(reader, without, json, plain);
  EXPECT_FALSE(nlohmann::json::parse(plain.str()).at("tokens").at(0).contains("candidates"));

  // A damaged row is named; deleting the run deletes its candidates.
  {
    Database db(path, Database::Mode::kReadWrite);
    db.exec("UPDATE router_candidates SET scores = x'00' WHERE pos = 1");
  }
  TraceReader damaged(path);
  try {
    damaged.router_candidates(with);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("router candidates of position 1"), std::string::npos)
        << e.what();
  }
  delete_run(path, with);
  Database db(path, Database::Mode::kReadOnly);
  EXPECT_EQ(db.query_int("SELECT count(*) FROM router_candidates"), 0);
}

}  // namespace
}  // namespace moescope::storage
