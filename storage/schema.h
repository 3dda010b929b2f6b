#pragma once
// The trace schema (docs/trace-format.md), its version and forward migrations.
//
// A trace file is an SQLite database whose PRAGMA application_id is kApplicationId and whose
// PRAGMA user_version is the schema version it was written with. Opening an older trace applies
// the forward migrations in order, each in its own transaction; a newer one is refused.
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

namespace moescope::storage {

class Database;

inline constexpr int32_t kSchemaVersion = 4;
inline constexpr int32_t kApplicationId = 0x4D6F4553;  // "MoES"

// One step of the schema's history: turns a version-`from` trace into a version from+1 trace.
struct Migration {
  int32_t from = 0;
  std::string description;
  std::function<void(Database&)> apply;
};

// The real migrations of this build (from the first released schema on).
std::span<const Migration> migrations();

// Applies the steps that lead from the file's user_version to `target`, each with the version
// bump in one transaction (a failing step leaves the file at the previous version). Throws
// moescope::Error when a step is missing or fails.
void migrate(Database& db, std::span<const Migration> steps, int32_t target);

// What a file is, read from its header pragmas and table list.
struct SchemaState {
  bool empty = false;   // no tables: a new file
  int32_t version = 0;  // user_version
  bool ours = false;    // application_id matches
};
SchemaState inspect_schema(Database& db);

// Checks that `db` is a trace this build can read: a MoEScope trace, not newer than
// kSchemaVersion ("FILE was written by a newer MoEScope (schema N > M)"). Returns the version.
int32_t check_schema(Database& db, const SchemaState& state);

// Creates schema `version` (1 .. kSchemaVersion) in an empty database: the first schema, then
// the migrations. Older versions are for tests of the upgrade path.
void create_schema(Database& db, int32_t version = kSchemaVersion);

// For a writer: creates the schema in an empty file, migrates an older one, refuses others.
void prepare_for_writing(Database& db);

}  // namespace moescope::storage
