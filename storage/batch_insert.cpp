#include "storage/batch_insert.h"

#include <cmath>
#include <cstring>

namespace moescope::storage {
namespace {

std::string values(int n_columns, int n_rows) {
  std::string row = "(";
  for (int c = 0; c < n_columns; ++c) row += c ? ",?" : "?";
  row += ")";
  std::string out;
  for (int r = 0; r < n_rows; ++r) out += (r ? "," : "") + row;
  return out;
}

}  // namespace

BatchInsert::BatchInsert(Database& db, const std::string& columns, int n_columns, int batch_rows)
    : n_columns_(n_columns),
      batch_rows_(batch_rows),
      batch_(db, "INSERT INTO " + columns + " VALUES " + values(n_columns, batch_rows)),
      single_(db, "INSERT INTO " + columns + " VALUES " + values(n_columns, 1)) {
  pending_.reserve(size_t(batch_rows) * size_t(n_columns));
}

void BatchInsert::push(std::string_view v) {
  const size_t at = bytes_.size();
  bytes_.resize(at + v.size());
  if (!v.empty()) std::memcpy(bytes_.data() + at, v.data(), v.size());
  pending_.push_back({Kind::kText, int64_t(at), 0, v.size()});
}

void BatchInsert::push(const Blob& v) {
  if (v.bytes.empty() && v.null_if_empty) {
    push(Null{});
    return;
  }
  const size_t at = bytes_.size();
  bytes_.resize(at + v.bytes.size());
  if (!v.bytes.empty()) std::memcpy(bytes_.data() + at, v.bytes.data(), v.bytes.size());
  pending_.push_back({Kind::kBlob, int64_t(at), 0, v.bytes.size()});
}

void BatchInsert::bind(Statement& st, size_t from, size_t count) {
  for (size_t k = 0; k < count; ++k) {
    const Value& v = pending_[from + k];
    const int i = int(k) + 1;
    switch (v.kind) {
      case Kind::kInt:
        st.bind(i, v.i);
        break;
      case Kind::kReal:
        if (std::isnan(v.d)) {
          st.bind_null(i);
        } else {
          st.bind(i, v.d);
        }
        break;
      case Kind::kNull:
        st.bind_null(i);
        break;
      case Kind::kText:
        st.bind_static(
            i, std::string_view(reinterpret_cast<const char*>(bytes_.data()) + v.i, v.size));
        break;
      case Kind::kBlob:
        st.bind_blob_static(i, std::span<const std::byte>(bytes_.data() + v.i, v.size));
        break;
    }
  }
}

void BatchInsert::run_batch() {
  bind(batch_, 0, pending_.size());
  batch_.run();
  pending_.clear();
  bytes_.clear();
}

void BatchInsert::flush() {
  const auto cols = size_t(n_columns_);
  for (size_t from = 0; from < pending_.size(); from += cols) {
    bind(single_, from, cols);
    single_.run();
  }
  pending_.clear();
  bytes_.clear();
}

}  // namespace moescope::storage
