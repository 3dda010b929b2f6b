#pragma once
// Removing a run from a trace: every row of it in every table, in one transaction, so that a
// recording that failed before it recorded anything leaves no empty run behind. The other runs'
// rows are untouched. (runs.id is a plain rowid: once the newest run is deleted, the next run
// may get its id again; nothing refers to a deleted run.)
#include <cstdint>
#include <filesystem>

namespace moescope::storage {

class Database;

// Deletes run `run` inside the caller's transaction (or autocommit). Throws moescope::Error for an
// unknown run.
void delete_run_rows(Database& db, int64_t run);
// Opens the trace read-write (upgrading an older schema) and deletes the run in one transaction.
void delete_run(const std::filesystem::path& trace, int64_t run);
// The same, only when the run has no token rows (nothing forwarded was committed: an empty
// interrupted run). Returns whether it deleted it.
bool delete_empty_run(const std::filesystem::path& trace, int64_t run);
// Removes the trace file (and its -wal, -shm, -journal) when it holds no run but `own_run` (0:
// none), under the write lock so that no other writer is between creating the schema and adding
// its run. Returns whether it removed it. For a recording that created the file and then failed:
// another process's run in the file keeps it.
bool remove_trace_of_run(const std::filesystem::path& trace, int64_t own_run);

}  // namespace moescope::storage
