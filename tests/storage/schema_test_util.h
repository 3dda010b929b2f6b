#pragma once
// Shared by the schema migration tests: small recorded traces, table dumps, and real files of an
// older schema (made with that schema's DDL, filled with a recorded run's rows).
#include <cstdint>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "engine/policy/routing_trace.h"
#include "storage/sqlite_db.h"

namespace moescope::storage::test {

policy::RoutingTrace small_trace(uint64_t seed = 1);
// Records `runs` runs of synthetic routing (a simulated policy with cache events each) into path.
void record_runs(const std::filesystem::path& path, int runs);
std::vector<std::string> tables(Database& db);
std::vector<std::string> columns(Database& db, const std::string& table, bool with_generated);
// Every row of `table` as text (the given columns, quoted), sorted, by run (0: not a run's row).
std::map<int64_t, std::multiset<std::string>> dump(Database& db, const std::string& table,
                                                   const std::vector<std::string>& cols);
using Contents = std::map<std::string, std::map<int64_t, std::multiset<std::string>>>;
// Every table's rows (its columns as of `reference`'s schema, or its own).
Contents contents(Database& db, Database* reference = nullptr);
// A schema-`version` file made with that version's DDL, holding `runs` runs recorded by the
// current writer (copied over column by column: older tables are the current ones without the
// later columns and tables).
std::filesystem::path make_old_trace(const std::string& name, int runs, int32_t version);
// Every schema object of a file, "name" + its SQL, by name (a new file and an upgraded one must
// have the same).
std::vector<std::string> schema_ddl(const std::filesystem::path& path);
// Expects `db` (upgraded) to hold every row of `before` (a schema-`from` file's contents) in the
// columns schema `from` had; `scratch` names a temporary file for that schema.
void expect_rows_intact(Database& db, const Contents& before, int32_t from,
                        const std::string& scratch);

}  // namespace moescope::storage::test
