#include "storage/export/text_out.h"

#include <cmath>

#include "engine/common/error.h"

namespace moescope::storage {

void TextOut::flush() {
  if (buf_.size() == 0) return;
  os_.write(buf_.data(), std::streamsize(buf_.size()));
  if (!os_) fail("cannot write the export output (disk full?)");
  written_ += buf_.size();
  buf_.clear();
}

namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 when it is not one.
size_t utf8_sequence(std::string_view s, size_t i) {
  const auto c = uint8_t(s[i]);
  size_t n = 0;
  uint32_t min = 0, cp = 0;
  if (c < 0x80) return 1;
  if ((c & 0xE0) == 0xC0) {
    n = 2, min = 0x80, cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3, min = 0x800, cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4, min = 0x10000, cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    const auto b = uint8_t(s[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  // Overlong forms, surrogates and values past U+10FFFF are not valid UTF-8 either.
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

}  // namespace

void put_json_string(TextOut& out, std::string_view s) {
  out.put('"');
  size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    const auto u = uint8_t(c);
    if (u >= 0x80) {
      const size_t n = utf8_sequence(s, i);
      if (n == 0) {
        out.put("\\ufffd");
        ++i;
      } else {
        out.put(s.substr(i, n));
        i += n;
      }
      continue;
    }
    switch (c) {
      case '"':
        out.put("\\\"");
        break;
      case '\\':
        out.put("\\\\");
        break;
      case '\n':
        out.put("\\n");
        break;
      case '\r':
        out.put("\\r");
        break;
      case '\t':
        out.put("\\t");
        break;
      default:
        if (u < 0x20 || u == 0x7F) {
          out.print("\\u{:04x}", unsigned(u));
        } else {
          out.put(c);
        }
    }
    ++i;
  }
  out.put('"');
}

void put_json_number(TextOut& out, double v) {
  if (!std::isfinite(v)) {
    out.put("null");
  } else {
    out.print("{}", v);
  }
}

void put_json_number(TextOut& out, float v) {
  if (!std::isfinite(v)) {
    out.put("null");
  } else {
    out.print("{}", v);  // shortest form that reads back as the same float
  }
}

void put_csv_field(TextOut& out, std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) {
    out.put(s);
    return;
  }
  out.put('"');
  for (char c : s) {
    if (c == '"') out.put('"');
    out.put(c);
  }
  out.put('"');
}

void put_us(TextOut& out, int64_t ns) {
  const char* sign = ns < 0 ? "-" : "";
  const uint64_t a = ns < 0 ? uint64_t(0) - uint64_t(ns) : uint64_t(ns);
  out.print("{}{}.{:03}", sign, a / 1000, a % 1000);
}

}  // namespace moescope::storage
