#pragma once
// Buffered text output for the exporters: they format into a buffer that goes to the stream every
// megabyte, so a large export never holds its whole output in memory. Also the escaping the
// formats need (JSON strings, RFC 4180 fields) and exact nanosecond -> microsecond numbers.
#include <cstdint>
#include <iterator>
#include <ostream>
#include <string_view>
#include <utility>

#include <fmt/format.h>

namespace moescope::storage {

class TextOut {
 public:
  explicit TextOut(std::ostream& os, size_t flush_at = size_t(1) << 20)
      : os_(os), flush_at_(flush_at) {}
  TextOut(const TextOut&) = delete;
  TextOut& operator=(const TextOut&) = delete;

  template <typename... Args>
  void print(fmt::format_string<Args...> format, Args&&... args) {
    fmt::format_to(std::back_inserter(buf_), format, std::forward<Args>(args)...);
    maybe_flush();
  }
  void put(std::string_view s) {
    buf_.append(s);
    maybe_flush();
  }
  void put(char c) { buf_.push_back(c); }

  // Writes the buffer to the stream; throws moescope::Error when the stream fails.
  void flush();
  uint64_t bytes() const { return written_ + buf_.size(); }

 private:
  void maybe_flush() {
    if (buf_.size() >= flush_at_) flush();
  }

  std::ostream& os_;
  size_t flush_at_;
  fmt::memory_buffer buf_;
  uint64_t written_ = 0;
};

// A quoted JSON string. Control characters, quotes and backslashes are escaped; bytes that are
// not valid UTF-8 (a token piece can be half a character) become U+FFFD, so the output is always
// valid JSON.
void put_json_string(TextOut& out, std::string_view s);
// A JSON number; NaN and infinities become null.
void put_json_number(TextOut& out, double v);
void put_json_number(TextOut& out, float v);
// An RFC 4180 field: quoted (with quotes doubled) when it holds a comma, quote, CR or LF.
void put_csv_field(TextOut& out, std::string_view s);
// Nanoseconds as microseconds with three decimals: exact (12345 ns -> 12.345).
void put_us(TextOut& out, int64_t ns);

}  // namespace moescope::storage
