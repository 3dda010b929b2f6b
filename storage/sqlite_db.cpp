#include "storage/sqlite_db.h"

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <system_error>
#include <thread>

#include "engine/common/error.h"

namespace moescope::storage {

namespace {

uint32_t big_endian(const unsigned char* p, int n) {
  uint32_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | p[i];
  return v;
}

// SQLite reads a database cut short at a page boundary without complaint until a query reaches
// a missing page. The header says how many pages the file has (when its "valid-for" counter
// matches the change counter); a file shorter than that lost its tail.
//
// Another process may be committing to the file right now: its rollback journal or WAL exists
// for the whole write, and while it writes, the header can be ahead of the file's length (page 1
// is written before the pages that extend the file). A journal or a non-empty WAL beside the file
// leaves the check to SQLite (which rolls back or redoes it), and an apparent shortfall is only
// believed when it is still there after the file has had time to settle.
bool journal_beside(const std::filesystem::path& path) {
  std::error_code ec;
  const auto wal_size = std::filesystem::file_size(path.string() + "-wal", ec);
  if (!ec && wal_size > 0) return true;
  return std::filesystem::exists(path.string() + "-journal", ec);
}

// Bytes the header says the file has, or 0 when it does not say (not SQLite, unreadable, stale).
uint64_t bytes_in_header(const std::filesystem::path& path) {
  std::ifstream f(path, std::ios::binary);
  unsigned char header[100];
  if (!f.read(reinterpret_cast<char*>(header), sizeof header)) return 0;
  if (std::memcmp(header, "SQLite format 3", 16) != 0) return 0;
  uint64_t page_size = big_endian(header + 16, 2);
  if (page_size == 1) page_size = 65536;
  const uint32_t change_counter = big_endian(header + 24, 4);
  const uint64_t pages = big_endian(header + 28, 4);
  const uint32_t valid_for = big_endian(header + 92, 4);
  if (valid_for != change_counter) return 0;
  return pages * page_size;
}

void check_not_truncated(const std::filesystem::path& path) {
  constexpr int kLooks = 5;
  uint64_t size = 0;
  uint64_t expected = 0;
  for (int look = 0; look < kLooks; ++look) {
    if (look > 0) std::this_thread::sleep_for(std::chrono::milliseconds(20 << look));
    if (journal_beside(path)) return;
    expected = bytes_in_header(path);
    std::error_code ec;
    size = std::filesystem::file_size(path, ec);
    if (ec || size < 100 || expected == 0 || size >= expected) return;
    if (journal_beside(path)) return;
  }
  fail("trace {} is truncated ({} of {} bytes)", path.string(), size, expected);
}

// Opening a FIFO blocks until a writer appears, and a device never ends: anything but a regular
// file (or a path still to be created) is refused before SQLite opens it.
void refuse_special_file(const std::filesystem::path& path) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(status) || std::filesystem::is_regular_file(status)) return;
  const char* kind = std::filesystem::is_directory(status) ? "a directory"
                     : std::filesystem::is_fifo(status)    ? "a FIFO (named pipe)"
                     : std::filesystem::is_socket(status)  ? "a socket"
                     : std::filesystem::is_character_file(status) ||
                             std::filesystem::is_block_file(status)
                         ? "a device"
                         : "not a regular file";
  fail("trace {} is {}, not a trace file", path.string(), kind);
}

// What a failed statement was doing, for messages: its first words, never empty.
std::string statement_name(std::string_view sql) {
  const size_t begin = sql.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) return "an empty statement";
  sql.remove_prefix(begin);
  sql = sql.substr(0, std::min(sql.find_first_of("(;\n"), size_t{60}));
  while (!sql.empty() && sql.back() == ' ') sql.remove_suffix(1);
  return std::string(sql);
}

}  // namespace

// ---- Database ---------------------------------------------------------------------------------

Database::Database(const std::filesystem::path& path, Mode mode) : path_(path) {
  refuse_special_file(path);
  if (mode != Mode::kCreate) {
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (ec || !std::filesystem::exists(status)) fail("trace {} does not exist", path.string());
    if (std::filesystem::is_directory(status)) {
      fail("trace {} is a directory, not a file", path.string());
    }
  }
  check_not_truncated(path);
  // One thread uses a connection at a time (the writer thread, or a reader's caller): no per-call
  // locking.
  int flags = SQLITE_OPEN_NOMUTEX;
  switch (mode) {
    case Mode::kReadOnly:
      flags |= SQLITE_OPEN_READONLY;
      break;
    case Mode::kReadWrite:
      flags |= SQLITE_OPEN_READWRITE;
      break;
    case Mode::kCreate:
      flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
      break;
  }
  const int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    const std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close_v2(db_);
    db_ = nullptr;
    fail("cannot open trace {}: {}", path.string(), msg);
  }
  sqlite3_extended_result_codes(db_, 0);
  // Another connection (a writer) may hold the lock briefly during a commit.
  sqlite3_busy_timeout(db_, 5000);
}

Database::~Database() {
  if (db_ != nullptr) sqlite3_close_v2(db_);
}

void Database::fail_sqlite(int rc, std::string_view what) const {
  const std::string file = path_.string();
  const std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
  switch (rc & 0xff) {
    case SQLITE_NOTADB:
      fail("{} is not a MoEScope trace (not an SQLite database)", file);
    case SQLITE_CORRUPT:
      fail("trace {} is corrupt ({}) while {}", file, msg, what);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      fail("trace {} is locked by another process while {}", file, what);
    case SQLITE_FULL:
      fail("the disk is full: cannot write trace {}", file);
    case SQLITE_READONLY:
      fail("trace {} is read-only: cannot {}", file, what);
    case SQLITE_IOERR:
      fail("I/O error on trace {} while {} ({})", file, what, msg);
    case SQLITE_CANTOPEN:
      fail("cannot open trace {} ({})", file, msg);
    default:
      fail("trace {}: SQLite error while {}: {}", file, what, msg);
  }
}

void Database::exec(std::string_view sql) {
  const std::string s(sql);
  char* err = nullptr;
  const int rc = sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err);
  sqlite3_free(err);
  if (rc != SQLITE_OK) fail_sqlite(rc, "running " + statement_name(s));
}

int64_t Database::query_int(std::string_view sql) {
  Statement st(*this, sql);
  if (!st.step()) return 0;
  return st.int64(0);
}

bool Database::has_table(std::string_view name) {
  Statement st(*this, "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?");
  st.bind(1, name);
  return st.step();
}

int64_t Database::changes() const {
  return sqlite3_changes64(db_);
}

// ---- Statement --------------------------------------------------------------------------------

Statement::Statement(Database& db, std::string_view sql) : db_(&db) {
  const int rc = sqlite3_prepare_v3(db.handle(), sql.data(), int(sql.size()),
                                    SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr);
  if (rc != SQLITE_OK) {
    db.fail_sqlite(rc, "preparing " + statement_name(sql));
  }
}

Statement::~Statement() {
  if (stmt_ != nullptr) sqlite3_finalize(stmt_);
}

Statement::Statement(Statement&& o) noexcept : db_(o.db_), stmt_(o.stmt_) {
  o.stmt_ = nullptr;
}

Statement& Statement::operator=(Statement&& o) noexcept {
  if (this != &o) {
    if (stmt_ != nullptr) sqlite3_finalize(stmt_);
    db_ = o.db_;
    stmt_ = o.stmt_;
    o.stmt_ = nullptr;
  }
  return *this;
}

void Statement::fail_sqlite(int rc) const {
  const char* sql = sqlite3_sql(stmt_);
  db_->fail_sqlite(rc, "running " + (sql ? statement_name(sql) : std::string("a statement")));
}

Statement& Statement::bind(int i, int64_t v) {
  const int rc = sqlite3_bind_int64(stmt_, i, v);
  if (rc != SQLITE_OK) fail_sqlite(rc);
  return *this;
}

Statement& Statement::bind(int i, double v) {
  const int rc = sqlite3_bind_double(stmt_, i, v);
  if (rc != SQLITE_OK) fail_sqlite(rc);
  return *this;
}

Statement& Statement::bind(int i, std::string_view v) {
  const int rc = sqlite3_bind_text64(stmt_, i, v.data() ? v.data() : "", v.size(), SQLITE_TRANSIENT,
                                     SQLITE_UTF8);
  if (rc != SQLITE_OK) fail_sqlite(rc);
  return *this;
}

Statement& Statement::bind_blob(int i, std::span<const std::byte> v) {
  static const std::byte kEmpty{};  // a null pointer would bind NULL, not an empty blob
  const int rc =
      sqlite3_bind_blob64(stmt_, i, v.empty() ? &kEmpty : v.data(), v.size(), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK) fail_sqlite(rc);
  return *this;
}

Statement& Statement::bind_static(int i, std::string_view v) {
  // A null pointer would bind NULL, not an empty string.
  const int rc =
      sqlite3_bind_text64(stmt_, i, v.data() ? v.data() : "", v.size(), SQLITE_STATIC, SQLITE_UTF8);
  if (rc != SQLITE_OK) fail_sqlite(rc);
  return *this;
}

Statement& Statement::bind_blob_static(int i, std::span<const std::byte> v) {
  // An empty blob is still a blob (not NULL): SQLite needs a non-null pointer for that.
  static const std::byte kEmpty{};
  const int rc =
      sqlite3_bind_blob64(stmt_, i, v.empty() ? &kEmpty : v.data(), v.size(), SQLITE_STATIC);
  if (rc != SQLITE_OK) fail_sqlite(rc);
  return *this;
}

Statement& Statement::bind_null(int i) {
  const int rc = sqlite3_bind_null(stmt_, i);
  if (rc != SQLITE_OK) fail_sqlite(rc);
  return *this;
}

bool Statement::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  // The statement must be reset before it can report the real error or run again.
  sqlite3_reset(stmt_);
  fail_sqlite(rc);
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

bool Statement::is_null(int col) const {
  return sqlite3_column_type(stmt_, col) == SQLITE_NULL;
}
int64_t Statement::int64(int col) const {
  return sqlite3_column_int64(stmt_, col);
}
double Statement::real(int col) const {
  return sqlite3_column_double(stmt_, col);
}

std::string Statement::text(int col) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
  return p ? std::string(p, size_t(sqlite3_column_bytes(stmt_, col))) : std::string();
}

std::span<const std::byte> Statement::blob(int col) const {
  const void* p = sqlite3_column_blob(stmt_, col);
  const int n = sqlite3_column_bytes(stmt_, col);
  if (p == nullptr || n <= 0) return {};
  return {static_cast<const std::byte*>(p), size_t(n)};
}

// ---- Transaction ------------------------------------------------------------------------------

Transaction::Transaction(Database& db, bool immediate) : db_(db) {
  db_.exec(immediate ? "BEGIN IMMEDIATE" : "BEGIN");
}

Transaction::~Transaction() {
  if (open_) sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void Transaction::commit() {
  db_.exec("COMMIT");
  open_ = false;
}

}  // namespace moescope::storage
