#include "tests/storage/schema_test_util.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "engine/policy/synthetic_trace.h"
#include "storage/schema.h"
#include "storage/trace_writer.h"
#include "tests/storage/storage_test_util.h"

namespace moescope::storage::test {

policy::RoutingTrace small_trace(uint64_t seed) {
  policy::SyntheticSpec spec;
  spec.n_layers = 3;
  spec.n_experts = 8;
  spec.top_k = 2;
  spec.n_tokens = 40;
  spec.n_prefill = 8;
  spec.seed = seed;
  return policy::synthetic_trace(spec);
}

void record_runs(const std::filesystem::path& path, int runs) {
  TraceWriter writer(path);
  for (int i = 0; i < runs; ++i) {
    const policy::RoutingTrace trace = small_trace(uint64_t(i) + 1);
    test::record_run(writer, trace, 4, "run " + std::to_string(i));
  }
}

std::vector<std::string> tables(Database& db) {
  std::vector<std::string> out;
  Statement st(db, "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name");
  while (st.step()) out.push_back(st.text(0));
  return out;
}

std::vector<std::string> columns(Database& db, const std::string& table, bool with_generated) {
  std::vector<std::string> out;
  Statement st(db, with_generated ? "SELECT name FROM pragma_table_xinfo(?)"
                                  : "SELECT name FROM pragma_table_info(?)");
  st.bind(1, table);
  while (st.step()) out.push_back(st.text(0));
  return out;
}

std::map<int64_t, std::multiset<std::string>> dump(Database& db, const std::string& table,
                                                   const std::vector<std::string>& cols) {
  const std::vector<std::string> all = columns(db, table, true);
  const bool has_run = std::find(all.begin(), all.end(), "run") != all.end();
  std::string row;
  for (const std::string& c : cols) row += (row.empty() ? "quote(" : " || ',' || quote(") + c + ")";
  const std::string run = table == "runs" ? "id" : has_run ? "run" : "0";
  Statement st(db, "SELECT " + run + ", " + row + " FROM " + table);
  std::map<int64_t, std::multiset<std::string>> out;
  while (st.step()) out[st.int64(0)].insert(st.text(1));
  return out;
}

Contents contents(Database& db, Database* reference) {
  Contents out;
  for (const std::string& t : tables(reference ? *reference : db))
    out[t] = dump(db, t, columns(reference ? *reference : db, t, false));
  return out;
}

std::filesystem::path make_old_trace(const std::string& name, int runs, int32_t version) {
  const auto source = test::temp_path(name + ".source.sqlite");
  record_runs(source, runs);
  const auto path = test::temp_path(name);
  Database db(path, Database::Mode::kCreate);
  create_schema(db, version);
  db.exec("ATTACH '" + source.string() + "' AS src");
  Transaction tx(db);
  for (const std::string& t : tables(db)) {
    if (t == "cache_event_kinds" || t == "cache_outcomes" || t == "token_kinds")
      continue;  // filled by the DDL
    std::string cols;
    for (const std::string& c : columns(db, t, false)) cols += (cols.empty() ? "" : ", ") + c;
    db.exec("INSERT INTO main." + t + " (" + cols + ") SELECT " + cols + " FROM src." + t);
  }
  tx.commit();
  db.exec("DETACH src");
  return path;
}

std::vector<std::string> schema_ddl(const std::filesystem::path& path) {
  Database db(path, Database::Mode::kReadOnly);
  std::vector<std::string> out;
  Statement st(db, "SELECT name, sql FROM sqlite_schema ORDER BY name");
  while (st.step()) out.push_back(st.text(0) + (st.is_null(1) ? "" : st.text(1)));
  return out;
}

void expect_rows_intact(Database& db, const Contents& before, int32_t from,
                        const std::string& scratch) {
  Database old_shape(test::temp_path(scratch), Database::Mode::kCreate);
  create_schema(old_shape, from);
  for (const auto& [table, rows] : before) {
    SCOPED_TRACE(table);
    EXPECT_EQ(dump(db, table, columns(old_shape, table, false)), rows);
  }
}

}  // namespace moescope::storage::test
