#pragma once
// A small JSON reader for the reference sidecars (trusted test input; the engine has no JSON
// dependency). Numbers are doubles, objects keep their key order.
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace moescope::test {

struct Json {
  using Array = std::vector<Json>;
  using Object = std::map<std::string, Json>;
  std::variant<std::nullptr_t, bool, double, std::string, Array, Object> value;

  bool has(const std::string& key) const {
    const auto* o = std::get_if<Object>(&value);
    return o && o->contains(key);
  }
  const Json& operator[](const std::string& key) const { return std::get<Object>(value).at(key); }
  const Object& object() const { return std::get<Object>(value); }
  const Array& array() const { return std::get<Array>(value); }
  const std::string& str() const { return std::get<std::string>(value); }
  double num() const { return std::get<double>(value); }
  int64_t integer() const { return static_cast<int64_t>(num()); }

  static Json parse(std::string_view text) {
    size_t pos = 0;
    Json j = parse_value(text, pos);
    skip_space(text, pos);
    if (pos != text.size()) throw std::runtime_error("trailing characters in JSON");
    return j;
  }

 private:
  static void skip_space(std::string_view s, size_t& pos) {
    while (pos < s.size() &&
           (s[pos] == ' ' || s[pos] == '\n' || s[pos] == '\r' || s[pos] == '\t')) {
      ++pos;
    }
  }
  static void expect(std::string_view s, size_t& pos, char c) {
    skip_space(s, pos);
    if (pos >= s.size() || s[pos] != c)
      throw std::runtime_error(std::string("JSON: expected ") + c);
    ++pos;
  }
  static void append_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }
  static uint32_t hex4(std::string_view s, size_t& pos) {
    if (pos + 4 > s.size()) throw std::runtime_error("JSON: short \\u escape");
    const uint32_t v = std::stoul(std::string(s.substr(pos, 4)), nullptr, 16);
    pos += 4;
    return v;
  }
  static std::string parse_string(std::string_view s, size_t& pos) {
    expect(s, pos, '"');
    std::string out;
    while (pos < s.size() && s[pos] != '"') {
      char c = s[pos++];
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos >= s.size()) break;
      c = s[pos++];
      switch (c) {
        case 'n':
          out += '\n';
          break;
        case 't':
          out += '\t';
          break;
        case 'r':
          out += '\r';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'u': {
          uint32_t cp = hex4(s, pos);
          if (cp >= 0xD800 && cp < 0xDC00 && s.substr(pos, 2) == "\\u") {
            pos += 2;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (hex4(s, pos) - 0xDC00);
          }
          append_utf8(out, cp);
          break;
        }
        default:
          out += c;  // \" \\ \/
      }
    }
    expect(s, pos, '"');
    return out;
  }
  static Json parse_value(std::string_view s, size_t& pos) {
    skip_space(s, pos);
    if (pos >= s.size()) throw std::runtime_error("JSON: unexpected end");
    const char c = s[pos];
    Json j;
    if (c == '{') {
      ++pos;
      Object o;
      skip_space(s, pos);
      if (pos < s.size() && s[pos] == '}') {
        ++pos;
      } else {
        for (;;) {
          std::string key = parse_string(s, pos);
          expect(s, pos, ':');
          o.emplace(std::move(key), parse_value(s, pos));
          skip_space(s, pos);
          if (pos < s.size() && s[pos] == ',') {
            ++pos;
            continue;
          }
          expect(s, pos, '}');
          break;
        }
      }
      j.value = std::move(o);
    } else if (c == '[') {
      ++pos;
      Array a;
      skip_space(s, pos);
      if (pos < s.size() && s[pos] == ']') {
        ++pos;
      } else {
        for (;;) {
          a.push_back(parse_value(s, pos));
          skip_space(s, pos);
          if (pos < s.size() && s[pos] == ',') {
            ++pos;
            continue;
          }
          expect(s, pos, ']');
          break;
        }
      }
      j.value = std::move(a);
    } else if (c == '"') {
      j.value = parse_string(s, pos);
    } else if (s.substr(pos, 4) == "true") {
      pos += 4;
      j.value = true;
    } else if (s.substr(pos, 5) == "false") {
      pos += 5;
      j.value = false;
    } else if (s.substr(pos, 4) == "null") {
      pos += 4;
      j.value = nullptr;
    } else {
      size_t used = 0;
      j.value = std::stod(std::string(s.substr(pos, 64)), &used);
      pos += used;
    }
    return j;
  }
};

}  // namespace moescope::test
