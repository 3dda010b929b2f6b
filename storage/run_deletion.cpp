#include "storage/run_deletion.h"

#include <fmt/format.h>

#include "engine/common/error.h"
#include "storage/row_keys.h"
#include "storage/schema.h"
#include "storage/sqlite_db.h"

namespace moescope::storage {
namespace {

// Tables with a run column of their own.
constexpr const char* kRunTables[] = {"moe_layers",   "prompts",       "tokens",
                                      "policies",     "policy_tokens", "policy_layers",
                                      "expert_stats", "affinity",      "layer_stats",
                                      "requests",     "step_expert_counts"};
// Tables keyed by token_key(run, pos) (row_keys.h): a key range is the run.
constexpr const char* kTokenKeyTables[] = {"routing",          "router_logits",
                                           "layer_timings",    "cache_compute",
                                           "gate_predictions", "router_candidates"};

}  // namespace

void delete_run_rows(Database& db, int64_t run) {
  {
    Statement st(db, "SELECT count(*) FROM runs WHERE id = ?");
    st.bind(1, run);
    if (!st.step() || st.int64(0) == 0) {
      fail("trace {} has no run {} to delete", db.path().string(), run);
    }
  }
  for (const char* table : kRunTables) {
    if (!db.has_table(table)) continue;  // older schemas lack the later tables
    Statement st(db, fmt::format("DELETE FROM {} WHERE run = ?", table));
    st.bind(1, run).run();
  }
  for (const char* table : kTokenKeyTables) {
    if (!db.has_table(table)) continue;  // a schema-1 trace has no gate_predictions
    Statement st(db, fmt::format("DELETE FROM {} WHERE id >= ? AND id < ?", table));
    st.bind(1, token_key(run, 0)).bind(2, token_key(run + 1, 0)).run();
  }
  Statement ev(db, "DELETE FROM cache_events WHERE id >= ? AND id < ?");
  ev.bind(1, event_key(run, 0, 0)).bind(2, event_key(run + 1, 0, 0)).run();
  Statement st(db, "DELETE FROM runs WHERE id = ?");
  st.bind(1, run).run();
}

namespace {

bool delete_run(const std::filesystem::path& trace, int64_t run, bool only_if_empty) {
  Database db(trace, Database::Mode::kReadWrite);
  db.exec("PRAGMA busy_timeout = 5000");
  prepare_for_writing(db);
  Transaction tx(db);
  if (only_if_empty) {
    Statement st(db, "SELECT count(*) FROM tokens WHERE run = ? AND forwarded != 0");
    st.bind(1, run);
    if (st.step() && st.int64(0) > 0) return false;
  }
  delete_run_rows(db, run);
  tx.commit();
  return true;
}

}  // namespace

void delete_run(const std::filesystem::path& trace, int64_t run) {
  delete_run(trace, run, false);
}

bool delete_empty_run(const std::filesystem::path& trace, int64_t run) {
  return delete_run(trace, run, true);
}

bool remove_trace_of_run(const std::filesystem::path& trace, int64_t own_run) {
  Database db(trace, Database::Mode::kReadWrite);
  // A file still empty (the schema was never made) counts as holding no run.
  Transaction tx(db, /*immediate=*/true);
  if (db.has_table("runs")) {
    Statement others(db, "SELECT count(*) FROM runs WHERE id != ?");
    others.bind(1, own_run);
    if (others.step() && others.int64(0) > 0) return false;
  }
  // Unlinked while the write lock is held: a writer waiting for it finds the file gone
  // (TraceSink::begin_run checks) instead of writing into a removed file.
  std::error_code ec;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    std::filesystem::remove(std::filesystem::path(trace.string() + suffix), ec);
  }
  return true;
}

}  // namespace moescope::storage
