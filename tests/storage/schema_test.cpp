// Schema versions and migrations, and every kind of bad trace file: each must end in one clear
// line, never a crash.
#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include "engine/common/error.h"
#include "engine/policy/synthetic_trace.h"
#include "storage/schema.h"
#include "storage/sqlite_db.h"
#include "storage/trace_reader.h"
#include "storage/trace_replay.h"
#include "tests/storage/storage_test_util.h"

namespace moescope::storage {
namespace {

policy::RoutingTrace small_trace(int64_t tokens = 50) {
  policy::SyntheticSpec spec;
  spec.n_layers = 3;
  spec.n_experts = 8;
  spec.top_k = 2;
  spec.n_tokens = tokens;
  spec.n_prefill = 10;
  return policy::synthetic_trace(spec);
}

// A complete trace with one run of `tokens` tokens.
std::filesystem::path write_trace(const std::string& name, int64_t tokens = 50) {
  const auto path = test::temp_path(name);
  const policy::RoutingTrace trace = small_trace(tokens);
  TraceWriter writer(path);
  test::record_run(writer, trace, 0);
  return path;
}

using test::expect_error;

void write_bytes(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), std::streamsize(bytes.size()));
}

int64_t user_version(const std::filesystem::path& path) {
  Database db(path, Database::Mode::kReadOnly);
  return db.query_int("PRAGMA user_version");
}

// The fabricated history: version 0 had no runs.label column; 0 -> 1 adds it.
Migration add_label() {
  return {0, "runs get a label", [](Database& db) {
            db.exec("ALTER TABLE runs ADD COLUMN label TEXT NOT NULL DEFAULT 'migrated'");
          }};
}

std::filesystem::path make_v0(const std::string& name) {
  const auto path = write_trace(name);
  Database db(path, Database::Mode::kReadWrite);
  // Back to schema 1 (schema_v2_test.cpp, schema_v3_test.cpp and schema_v4_test.cpp test those
  // steps), then without the label.
  db.exec("DROP TABLE router_candidates");
  db.exec("DROP TABLE requests");
  db.exec("DROP TABLE step_expert_counts");
  for (const char* c : {"request", "step"}) db.exec(std::string("ALTER TABLE tokens DROP COLUMN ") + c);
  for (const char* c : {"source_format", "source_path", "source_sha256", "source_bytes",
                        "routing_detail"})
    db.exec(std::string("ALTER TABLE runs DROP COLUMN ") + c);
  db.exec("ALTER TABLE tokens DROP COLUMN kind");
  db.exec("DROP TABLE gate_predictions");
  db.exec("DROP TABLE token_kinds");
  db.exec("ALTER TABLE runs DROP COLUMN label");
  db.exec("PRAGMA user_version = 0");
  return path;
}

TEST(StorageSchema, NewFileGetsTheCurrentVersion) {
  const auto path = write_trace("new.sqlite");
  Database db(path, Database::Mode::kReadOnly);
  const SchemaState s = inspect_schema(db);
  EXPECT_FALSE(s.empty);
  EXPECT_TRUE(s.ours);
  EXPECT_EQ(s.version, kSchemaVersion);
  // The writer leaves a self-contained file when it closes.
  EXPECT_EQ(db.query_int("SELECT count(*) FROM pragma_journal_mode WHERE journal_mode = 'delete'"),
            1);
  EXPECT_FALSE(std::filesystem::exists(path.string() + "-wal"));
}

TEST(StorageSchema, MigratesAFabricatedVersionZero) {
  const auto path = make_v0("v0.sqlite");
  // This build has no real step from 0.
  expect_error([&] { TraceReader r(path); }, "has schema 0, which this MoEScope cannot upgrade");
  {
    Database db(path, Database::Mode::kReadWrite);
    const Migration steps[] = {add_label()};
    migrate(db, steps, 1);
  }
  EXPECT_EQ(user_version(path), 1);
  TraceReader reader(path);
  const auto runs = reader.runs();
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].label, "migrated");
  EXPECT_EQ(runs[0].n_forwarded, 50);
  EXPECT_EQ(reader.routing_trace(runs[0].id).selected, small_trace().selected);
}

TEST(StorageSchema, MigrationStepsRunInOrderAndStopAtAFailure) {
  const Migration add_table{1, "an extra table", [](Database& db) {
                              db.exec("CREATE TABLE extra (x INTEGER)");
                              db.exec("INSERT INTO extra SELECT count(*) FROM runs");
                            }};
  {
    const auto path = make_v0("two-steps.sqlite");
    Database db(path, Database::Mode::kReadWrite);
    const Migration steps[] = {add_table, add_label()};  // listed out of order
    migrate(db, steps, 2);
    EXPECT_EQ(db.query_int("PRAGMA user_version"), 2);
    EXPECT_EQ(db.query_int("SELECT x FROM extra"), 1);
    EXPECT_EQ(db.query_int("SELECT count(*) FROM runs WHERE label = 'migrated'"), 1);
  }
  {
    // A failing step is rolled back whole and names the version it started from.
    const auto path = make_v0("failing.sqlite");
    Database db(path, Database::Mode::kReadWrite);
    const Migration broken{0, "a broken step", [](Database& d) {
                             d.exec("ALTER TABLE runs ADD COLUMN label TEXT");
                             d.exec("INSERT INTO no_such_table VALUES (1)");
                           }};
    const Migration steps[] = {broken};
    expect_error([&] { migrate(db, steps, 1); }, "from schema 0 (a broken step) failed");
    EXPECT_EQ(db.query_int("PRAGMA user_version"), 0);
    EXPECT_EQ(db.query_int("SELECT count(*) FROM pragma_table_info('runs') WHERE name = 'label'"),
              0);
  }
  {
    // A missing step stops after the steps that exist.
    const auto path = make_v0("missing-step.sqlite");
    Database db(path, Database::Mode::kReadWrite);
    const Migration steps[] = {add_label()};
    expect_error([&] { migrate(db, steps, 2); },
                 "has schema 1, which this MoEScope cannot upgrade");
    EXPECT_EQ(db.query_int("PRAGMA user_version"), 1);
  }
}

TEST(StorageSchema, RefusesANewerTrace) {
  const auto path = write_trace("newer.sqlite");
  {
    Database db(path, Database::Mode::kReadWrite);
    db.exec("PRAGMA user_version = 7");
  }
  const std::string message = path.string() + " was written by a newer MoEScope (schema 7 > " +
                              std::to_string(kSchemaVersion) + ")";
  expect_error([&] { TraceReader r(path); }, message);
  expect_error([&] { TraceWriter w(path); }, message);
}

TEST(StorageBadInput, MissingAndNonTraceFiles) {
  const auto dir = test::temp_path("dir");
  std::filesystem::create_directories(dir);
  expect_error([&] { TraceReader r(dir / "missing.sqlite"); }, "missing.sqlite does not exist");
  expect_error([&] { TraceReader r(dir); }, "is a directory");
  expect_error([&] { TraceWriter w(dir / "no" / "such" / "dir.sqlite"); }, "cannot open trace");

  const auto garbage = test::temp_path("garbage.sqlite");
  std::mt19937 rng(3);
  std::string bytes(8192, '\0');
  for (char& c : bytes) c = char(rng());
  write_bytes(garbage, bytes);
  expect_error([&] { TraceReader r(garbage); }, "is not a MoEScope trace (not an SQLite database)");
  expect_error([&] { TraceWriter w(garbage); }, "is not a MoEScope trace (not an SQLite database)");

  const auto text = test::temp_path("notes.txt");
  write_bytes(text, "runs,tokens\n1,2\n");
  expect_error([&] { TraceReader r(text); }, "not an SQLite database");

  const auto empty = test::temp_path("empty.sqlite");
  write_bytes(empty, "");
  expect_error([&] { TraceReader r(empty); }, "is not a MoEScope trace (the database is empty)");

  const auto other = test::temp_path("other.sqlite");
  {
    Database db(other, Database::Mode::kCreate);
    db.exec("CREATE TABLE invoices (id INTEGER PRIMARY KEY, amount REAL)");
  }
  expect_error([&] { TraceReader r(other); }, "an SQLite database of another program");
  expect_error([&] { TraceWriter w(other); }, "an SQLite database of another program");

  const auto hollow = test::temp_path("hollow.sqlite");
  {
    Database db(hollow, Database::Mode::kCreate);
    db.exec("CREATE TABLE runs (id INTEGER)");
    db.exec("PRAGMA application_id = " + std::to_string(kApplicationId));
    db.exec("PRAGMA user_version = " + std::to_string(kSchemaVersion));
  }
  expect_error([&] { TraceReader r(hollow); },
               "is not a valid MoEScope trace (no moe_layers table)");
}

TEST(StorageBadInput, UnknownRunsAndPolicies) {
  const auto path = write_trace("unknown-run.sqlite");
  TraceReader reader(path);
  expect_error([&] { reader.run_info(99); }, "has no run 99 (runs: 1)");
  expect_error([&] { reader.tokens(0); }, "has no run 0");
  expect_error([&] { reader.routing_trace(-4); }, "has no run -4");
  expect_error([&] { reader.policy_report(1, 5); }, "has no policy 5 (policies 0 to 0)");
  expect_error([&] { reader.token_expert(1, MoeLayerId(9)); }, "has MoE layers 0 to 2, not 9");

  const auto none = test::temp_path("no-runs.sqlite");
  { TraceWriter w(none); }
  TraceReader empty(none);
  expect_error([&] { empty.latest_run(); }, "holds no runs");
  expect_error([&] { empty.run_info(1); }, "has no run 1 (it holds no runs)");
}

// Every reading entry point, as the CLI and the GUI call them.
void read_everything(TraceReader& reader) {
  for (const RunSummary& s : reader.runs()) {
    reader.run_info(s.id);
    reader.prompts(s.id);
    reader.tokens(s.id);
    reader.routing(s.id);
    reader.layer_timings(s.id);
    reader.cache_events(s.id);
    reader.layer_aggregates(s.id);
    reader.layer_aggregates(s.id, policy::PhaseFilter::kDecode, true);
    reader.expert_matrices(s.id);
    reader.affinity(s.id, MoeLayerId(0));
    reader.token_expert(s.id, MoeLayerId(1));
    for (const PolicyDescription& p : reader.policies(s.id)) {
      reader.policy_report(s.id, p.id);
      replay_recorded_policy(reader, s.id, p.id);
    }
    reader.routing_trace(s.id);
  }
}

TEST(StorageBadInput, TruncatedAndCorruptedFilesFailCleanly) {
  const auto good = write_trace("big.sqlite", 3000);
  const auto size = std::filesystem::file_size(good);
  ASSERT_GT(size, 200'000u);
  std::ifstream in(good, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());

  int failures = 0;
  for (double keep : {0.9, 0.5, 0.1, 0.001}) {
    SCOPED_TRACE(keep);
    const auto cut = test::temp_path("truncated.sqlite");
    write_bytes(cut, bytes.substr(0, size_t(double(bytes.size()) * keep)));
    try {
      TraceReader reader(cut);
      read_everything(reader);
    } catch (const Error& e) {
      ++failures;
      EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
      EXPECT_NE(std::string(e.what()).find(cut.string()), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(failures, 4);

  // A cut at a page boundary near the end: SQLite alone would read it until a query reached the
  // missing pages; opening must refuse it.
  const size_t page = 4096;
  for (size_t keep : {bytes.size() - page, (bytes.size() * 99 / 100) / page * page}) {
    SCOPED_TRACE(keep);
    const auto cut = test::temp_path("tail.sqlite");
    write_bytes(cut, bytes.substr(0, keep));
    try {
      TraceReader reader(cut);
      ADD_FAILURE() << "a trace without its last pages opened";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("truncated"), std::string::npos) << e.what();
    }
  }

  std::mt19937 rng(11);
  for (int round = 0; round < 6; ++round) {
    SCOPED_TRACE(round);
    std::string damaged = bytes;
    // Scribble over a few pages past the header (page 1 holds the schema, keep it readable).
    for (int k = 0; k < 3; ++k) {
      const size_t at = 4096 + rng() % (damaged.size() - 8192);
      for (size_t i = 0; i < 512; ++i) damaged[at + i] = char(rng());
    }
    const auto path = test::temp_path("scribbled.sqlite");
    write_bytes(path, damaged);
    try {
      TraceReader reader(path);
      read_everything(reader);
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
    }
  }
}

// A fresh trace with `sql` applied to it (CHECK constraints off: any value a damaged file holds).
std::filesystem::path damage(const std::string& name, const std::string& sql) {
  const auto path = write_trace(name);
  Database db(path, Database::Mode::kReadWrite);
  db.exec("PRAGMA ignore_check_constraints = ON");
  db.exec(sql);
  return path;
}

TEST(StorageBadInput, DamagedRowsAreNamed) {
  {
    // Expert 99 (0x63) as position 7's first choice at layer 0.
    const auto path =
        damage("bad-expert.sqlite",
               "UPDATE routing SET experts = X'63' || substr(experts, 2) WHERE pos = 7");
    TraceReader reader(path);
    expect_error([&] { reader.routing_trace(1); }, "is damaged");
    expect_error([&] { reader.expert_matrices(1, policy::PhaseFilter::kAll, true); },
                 "expert 99 of layer");
  }
  {
    const auto path =
        damage("short-blob.sqlite", "UPDATE routing SET weights = X'00' WHERE pos = 9");
    TraceReader reader(path);
    expect_error([&] { reader.routing(1); }, "routing arrays do not match 6 entries");
  }
  {
    const auto path = damage("bad-phase.sqlite", "UPDATE tokens SET phase = 5 WHERE pos = 3");
    TraceReader reader(path);
    expect_error([&] { reader.tokens(1); }, "phase 5 is neither prefill nor decode");
  }
  {
    const auto path = damage("gap.sqlite", "DELETE FROM tokens WHERE pos = 20");
    TraceReader reader(path);
    expect_error([&] { reader.routing_trace(1); }, "misses position 20");
  }
  {
    const auto path = damage("bad-json.sqlite", "UPDATE policies SET capacity = '{\"pool\": 3}'");
    TraceReader reader(path);
    expect_error([&] { reader.policies(1); }, "policy capacity has a malformed 'pool'");
  }
  {
    const auto path =
        damage("bad-shape.sqlite", "UPDATE moe_layers SET n_experts = -2 WHERE layer = 1");
    TraceReader reader(path);
    expect_error([&] { reader.routing_trace(1); }, "has a bad expert layout");
  }
}

// Valid SQLite, impossible values: refused with one line naming the table and the row, never
// partly accepted.
TEST(StorageBadInput, ImpossibleValuesNameTheirTableAndRow) {
  {
    const auto path = damage("neg.sqlite",
                             "UPDATE policy_tokens SET misses = -5 WHERE (run, policy, pos) = "
                             "(SELECT run, policy, pos FROM policy_tokens WHERE accesses > 0 "
                             "ORDER BY pos LIMIT 1)");
    TraceReader reader(path);
    const int32_t policy = reader.policies(1).front().id;
    expect_error([&] { reader.policy_tokens(1, policy); }, "misses is negative (-5)");
    expect_error([&] { reader.policy_report(1, policy); }, "policy_tokens row (run 1, policy ");
  }
  {
    const auto path = damage("neg-layer.sqlite", "UPDATE policy_layers SET hits = -1");
    TraceReader reader(path);
    expect_error([&] { reader.policy_report(1, 0); }, "policy_layers row (run 1, policy 0");
  }
  {
    const auto path = damage("status.sqlite", "UPDATE runs SET status = 'paused'");
    TraceReader reader(path);
    expect_error([&] { reader.runs(); }, "runs row (id 1): unknown status");
    expect_error([&] { reader.run_info(1); }, "runs row (id 1): unknown status");
  }
  {
    // A NaN (0x7FC00000, little-endian) as position 7's first mixing weight.
    const auto path = damage(
        "nan.sqlite", "UPDATE routing SET weights = X'0000C07F' || substr(weights, 5) WHERE pos = 7");
    TraceReader reader(path);
    expect_error([&] { reader.routing(1); }, "routing row (run 1, pos 7)");
    expect_error([&] { reader.routing_trace(1); }, "is not a number");
  }
  {
    const auto path = damage("capacity.sqlite",
                             "UPDATE policies SET capacity = '{\"pool\":\"per-layer\",\"in_bytes\":"
                             "false,\"layer_slots\":[-4],\"global\":0}'");
    TraceReader reader(path);
    expect_error([&] { reader.policies(1); }, "policies row (run 1, policy 0): impossible capacity");
  }
  {
    const auto path = damage("layer.sqlite", "UPDATE expert_stats SET layer = 40 WHERE layer = 0");
    TraceReader reader(path);
    expect_error([&] { reader.expert_matrices(1); }, "expert_stats row (run 1, layer 40");
  }
  {
    const auto path = damage("stats.sqlite", "UPDATE layer_stats SET layer = 4294967297 WHERE layer = 0");
    TraceReader reader(path);
    expect_error([&] { reader.layer_aggregates(1); }, "layer_stats row (run 1, layer 4294967297)");
  }
  {
    const auto path = damage("event.sqlite", "UPDATE cache_events SET layer = 77");
    TraceReader reader(path);
    expect_error([&] { reader.cache_events(1); }, "cache_events row");
  }
  {
    const auto path = damage("counters.sqlite", "UPDATE policies SET token_counters = 2000000000");
    TraceReader reader(path);
    expect_error([&] { reader.policy_tokens(1, 0); }, "token_counters 2000000000 is impossible");
  }
}

}  // namespace
}  // namespace moescope::storage
