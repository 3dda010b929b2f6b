// Schema 2 and its migration from a real schema-1 file: the v1 DDL makes the file, a recorded run
// fills it, and the v2 reader upgrades it in place with every v1 row intact. Also: reading a v1
// file without upgrading, deleting a run (and nothing else), and refusing a newer file.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "engine/common/error.h"
#include "engine/policy/synthetic_trace.h"
#include "storage/run_deletion.h"
#include "storage/schema.h"
#include "storage/sqlite_db.h"
#include "storage/trace_reader.h"
#include "storage/trace_replay.h"
#include "tests/storage/schema_test_util.h"
#include "tests/storage/storage_test_util.h"

namespace moescope::storage {
namespace {

using test::expect_error;

using test::columns;
using test::Contents;
using test::contents;
using test::dump;
using test::record_runs;
using test::small_trace;

std::filesystem::path make_v1_trace(const std::string& name, int runs) {
  return test::make_old_trace(name, runs, 1);
}

TEST(StorageSchemaV2, AV1TraceIsUpgradedWithEveryRowIntact) {
  const auto path = make_v1_trace("v1.sqlite", 2);
  Contents before;
  {
    Database db(path, Database::Mode::kReadOnly);
    ASSERT_EQ(db.query_int("PRAGMA user_version"), 1);
    EXPECT_FALSE(db.has_table("gate_predictions"));
    EXPECT_EQ(columns(db, "tokens", false).back(), "stall_ns");
    before = contents(db);
    ASSERT_GT(before.at("routing").size(), 1u);  // both runs' rows
  }

  TraceReader reader(path);
  EXPECT_EQ(reader.schema_version(), kSchemaVersion);
  {
    Database db(path, Database::Mode::kReadOnly);
    EXPECT_EQ(db.query_int("PRAGMA user_version"), kSchemaVersion);
    EXPECT_TRUE(db.has_table("gate_predictions"));
    EXPECT_TRUE(db.has_table("token_kinds"));
    // The v1 columns of every v1 table hold exactly what they held.
    Database v1_shape(test::temp_path("v1_shape.sqlite"), Database::Mode::kCreate);
    create_schema(v1_shape, 1);
    for (const auto& [table, rows] : before) {
      SCOPED_TRACE(table);
      EXPECT_EQ(dump(db, table, columns(v1_shape, table, false)), rows);
    }
    EXPECT_EQ(db.query_int("SELECT count(*) FROM tokens WHERE kind IS NOT NULL"), 0);
    EXPECT_EQ(db.query_int("SELECT count(*) FROM gate_predictions"), 0);
  }
  // The reader reads the upgraded run as it read the v2 original.
  const int64_t run = reader.latest_run();
  for (const TokenRecord& t : reader.tokens(run)) EXPECT_EQ(t.kind, TokenKind::kNotRecorded);
  EXPECT_TRUE(reader.gate_predictions(run).empty());
  const policy::CacheReport recorded = reader.policy_report(run, 0);
  EXPECT_GT(recorded.total().accesses, 0);
  EXPECT_TRUE(replay_recorded_policy(reader, run, 0) == recorded);

  // A writer appends a v2 run with kinds to the upgraded file.
  {
    TraceWriter writer(path);
    const policy::RoutingTrace trace = small_trace(9);
    writer.begin_run(test::fake_run_info(trace.shape));
    const std::vector<int32_t> ids = {1, 7};
    const std::vector<TokenKind> kinds = {TokenKind::kBos, TokenKind::kNormal};
    writer.prompt("p", ids, {}, kinds);
    writer.finish_run();
  }
  TraceReader again(path);
  const auto tokens = again.tokens(again.latest_run());
  ASSERT_EQ(tokens.size(), 2u);
  EXPECT_EQ(tokens[0].kind, TokenKind::kBos);
  EXPECT_EQ(tokens[1].kind, TokenKind::kNormal);
}

TEST(StorageSchemaV2, ANewFileAndAnUpgradedOneHaveTheSameSchema) {
  const auto fresh = test::temp_path("fresh.sqlite");
  const auto old = test::temp_path("old.sqlite");
  {
    Database a(fresh, Database::Mode::kCreate);
    create_schema(a);
    Database b(old, Database::Mode::kCreate);
    create_schema(b, 1);
    migrate(b, migrations(), kSchemaVersion);
  }
  auto ddl = [](const std::filesystem::path& p) {
    Database db(p, Database::Mode::kReadOnly);
    std::vector<std::string> out;
    Statement st(db, "SELECT type, name, sql FROM sqlite_schema ORDER BY name");
    while (st.step()) out.push_back(st.text(0) + st.text(1) + st.text(2));
    out.push_back(std::to_string(db.query_int("PRAGMA user_version")));
    return out;
  };
  EXPECT_EQ(ddl(fresh), ddl(old));
}

TEST(StorageSchemaV2, AV1TraceIsReadAsItIsWithoutUpgrading) {
  const auto path = make_v1_trace("v1_ro.sqlite", 1);
  TraceReader reader(path, {.upgrade = false});
  EXPECT_EQ(reader.schema_version(), 1);
  const int64_t run = reader.latest_run();
  const auto tokens = reader.tokens(run);
  ASSERT_FALSE(tokens.empty());
  for (const TokenRecord& t : tokens) EXPECT_EQ(t.kind, TokenKind::kNotRecorded);
  EXPECT_TRUE(reader.gate_predictions(run).empty());
  EXPECT_TRUE(replay_recorded_policy(reader, run, 0) == reader.policy_report(run, 0));
  Database db(path, Database::Mode::kReadOnly);
  EXPECT_EQ(db.query_int("PRAGMA user_version"), 1);
}

TEST(StorageSchemaV2, AReadOnlyV1FileIsReadWithoutUpgrading) {
  if (::geteuid() == 0) GTEST_SKIP() << "root writes read-only files";
  const auto path = make_v1_trace("v1_chmod.sqlite", 1);
  std::filesystem::permissions(
      path, std::filesystem::perms::owner_read | std::filesystem::perms::group_read);
  TraceReader reader(path);
  EXPECT_EQ(reader.schema_version(), 1);
  EXPECT_FALSE(reader.tokens(reader.latest_run()).empty());
  std::filesystem::permissions(path, std::filesystem::perms::owner_write,
                               std::filesystem::perm_options::add);
}

TEST(StorageSchemaV2, ANewerVersionIsRefused) {
  const auto path = test::temp_path("newer.sqlite");
  record_runs(path, 1);
  {
    Database db(path, Database::Mode::kReadWrite);
    db.exec(fmt::format("PRAGMA user_version = {}", kSchemaVersion + 1));
  }
  const std::string message = fmt::format("{} was written by a newer MoEScope (schema {} > {})",
                                          path.string(), kSchemaVersion + 1, kSchemaVersion);
  expect_error([&] { TraceReader r(path); }, message);
  expect_error([&] { TraceWriter w(path); }, message);
  expect_error([&] { delete_run(path, 1); }, message);
}

TEST(StorageSchemaV2, DeletingARunRemovesExactlyItsRows) {
  const auto path = test::temp_path("delete.sqlite");
  record_runs(path, 3);
  Contents before;
  {
    Database db(path, Database::Mode::kReadOnly);
    before = contents(db);
  }
  // Every per-run table holds rows of the run to delete (so the test can fail).
  for (const char* t :
       {"runs", "moe_layers", "tokens", "routing", "layer_timings", "cache_events", "policies",
        "policy_tokens", "policy_layers", "expert_stats", "affinity", "layer_stats"}) {
    EXPECT_TRUE(before.at(t).contains(2)) << t;
  }
  delete_run(path, 2);
  Database db(path, Database::Mode::kReadOnly);
  const Contents after = contents(db);
  ASSERT_EQ(after.size(), before.size());
  for (const auto& [table, rows] : before) {
    SCOPED_TRACE(table);
    auto expected = rows;
    expected.erase(2);
    EXPECT_EQ(after.at(table), expected);
  }
  TraceReader reader(path);
  ASSERT_EQ(reader.runs().size(), 2u);
  EXPECT_EQ(reader.runs()[0].id, 1);
  EXPECT_EQ(reader.runs()[1].id, 3);
  expect_error([&] { delete_run(path, 2); }, "has no run 2");
}

// What `moescope record` does when appending fails: an aborted run without any committed token
// goes, one with tokens stays.
TEST(StorageSchemaV2, OnlyAnEmptyRunIsDeletedAsEmpty) {
  const auto path = test::temp_path("delete_empty.sqlite");
  record_runs(path, 1);
  int64_t empty = 0;
  {
    TraceWriter writer(path);
    empty = writer.begin_run(test::fake_run_info(small_trace().shape));
    const std::vector<int32_t> ids = {1, 2, 3};
    writer.prompt("never forwarded", ids);
    writer.abort_run("failed");
  }
  EXPECT_FALSE(delete_empty_run(path, 1));
  EXPECT_TRUE(delete_empty_run(path, empty));
  TraceReader reader(path);
  ASSERT_EQ(reader.runs().size(), 1u);
  EXPECT_EQ(reader.runs()[0].id, 1);
  Database db(path, Database::Mode::kReadOnly);
  EXPECT_EQ(db.query_int("SELECT count(*) FROM prompts"), 0);  // record_runs writes none
}

}  // namespace
}  // namespace moescope::storage
