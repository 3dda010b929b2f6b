#pragma once
// A thin RAII layer over libsqlite3: one connection, prepared statements, and every SQLite error
// turned into a one-line moescope::Error that names the trace file.
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace moescope::storage {

class Database;

// A prepared statement. Bind with 1-based indices, step(), read columns, reset() to reuse.
class Statement {
 public:
  Statement() = default;
  Statement(Database& db, std::string_view sql);
  ~Statement();
  Statement(Statement&& o) noexcept;
  Statement& operator=(Statement&& o) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int i, int64_t v);
  Statement& bind(int i, int32_t v) { return bind(i, int64_t(v)); }
  Statement& bind(int i, uint64_t v) { return bind(i, int64_t(v)); }
  Statement& bind(int i, double v);
  Statement& bind(int i, std::string_view v);
  Statement& bind_blob(int i, std::span<const std::byte> v);
  Statement& bind_null(int i);
  // Without a copy: the bytes must stay valid until the statement is reset.
  Statement& bind_static(int i, std::string_view v);
  Statement& bind_blob_static(int i, std::span<const std::byte> v);

  // True while a row is available; false when done. Throws on errors.
  bool step();
  // step() for statements that return no rows.
  void run() {
    step();
    reset();
  }
  void reset();

  bool is_null(int col) const;
  int64_t int64(int col) const;
  int32_t int32(int col) const { return static_cast<int32_t>(int64(col)); }
  double real(int col) const;
  std::string text(int col) const;
  std::span<const std::byte> blob(int col) const;  // valid until the next step/reset

 private:
  [[noreturn]] void fail_sqlite(int rc) const;
  Database* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

class Database {
 public:
  enum class Mode { kReadOnly, kReadWrite, kCreate };
  // Opens `path`. kReadOnly and kReadWrite never create the file. Throws moescope::Error.
  Database(const std::filesystem::path& path, Mode mode);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  void exec(std::string_view sql);
  int64_t query_int(std::string_view sql);
  bool has_table(std::string_view name);
  int64_t changes() const;

  const std::filesystem::path& path() const { return path_; }
  sqlite3* handle() { return db_; }
  // "FILE is not a MoEScope trace (file is not a database)"-style message for an SQLite code.
  [[noreturn]] void fail_sqlite(int rc, std::string_view what) const;

 private:
  std::filesystem::path path_;
  sqlite3* db_ = nullptr;
};

// BEGIN ... COMMIT, rolled back when the scope is left by an exception.
class Transaction {
 public:
  explicit Transaction(Database& db, bool immediate = true);
  ~Transaction();
  void commit();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

 private:
  Database& db_;
  bool open_ = true;
};

}  // namespace moescope::storage
