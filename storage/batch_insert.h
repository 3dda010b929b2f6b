#pragma once
// Inserts rows into one table many rows per statement (INSERT ... VALUES (...), (...), ...):
// SQLite's per-statement cost is paid once per batch instead of once per row, which is most of
// the writer thread's time. Rows wait in the batch until it is full or flush() runs, so flush
// before reading or updating rows of the table.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "storage/sqlite_db.h"

namespace moescope::storage {

class BatchInsert {
 public:
  struct Null {};
  struct Blob {
    std::span<const std::byte> bytes;
    bool null_if_empty = false;
  };

  // `columns` is "table (col, col, ...)" with n_columns names.
  BatchInsert(Database& db, const std::string& columns, int n_columns, int batch_rows = 16);

  // One row of n_columns values: integers, doubles (NaN is stored as NULL, as SQLite does),
  // Null, text (std::string_view) or Blob.
  template <typename... T>
  void add(const T&... values) {
    static_assert(sizeof...(T) > 0);
    (push(values), ...);
    if (pending_.size() == size_t(batch_rows_) * size_t(n_columns_)) run_batch();
  }
  // Writes the rows still pending.
  void flush();
  bool empty() const { return pending_.empty(); }

 private:
  enum class Kind : uint8_t { kInt, kReal, kNull, kText, kBlob };
  struct Value {
    Kind kind;
    int64_t i;  // integer, or offset into bytes_
    double d;
    size_t size;
  };
  void push(int64_t v) { pending_.push_back({Kind::kInt, v, 0, 0}); }
  void push(int32_t v) { pending_.push_back({Kind::kInt, v, 0, 0}); }
  void push(uint64_t v) { pending_.push_back({Kind::kInt, int64_t(v), 0, 0}); }
  void push(double v) { pending_.push_back({Kind::kReal, 0, v, 0}); }
  void push(float v) { pending_.push_back({Kind::kReal, 0, double(v), 0}); }
  void push(Null) { pending_.push_back({Kind::kNull, 0, 0, 0}); }
  void push(std::string_view v);
  void push(const Blob& v);
  void bind(Statement& st, size_t from, size_t count);
  void run_batch();

  int n_columns_;
  int batch_rows_;
  Statement batch_, single_;
  std::vector<Value> pending_;
  std::vector<std::byte> bytes_;  // text and blob values of the pending rows
};

}  // namespace moescope::storage
