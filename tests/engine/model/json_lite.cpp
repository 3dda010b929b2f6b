#include "tests/engine/model/json_lite.h"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace moescope::test {
namespace {

class Parser {
 public:
  explicit Parser(const std::string& s) : s_(s) {}

  Json parse() {
    Json v = value();
    skip();
    if (i_ != s_.size()) error("trailing characters");
    return v;
  }

 private:
  [[noreturn]] void error(const char* what) const {
    throw std::runtime_error("json: " + std::string(what) + " at " + std::to_string(i_));
  }
  void skip() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
  }
  bool eat(char c) {
    skip();
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  Json value() {
    skip();
    if (i_ >= s_.size()) error("unexpected end");
    const char c = s_[i_];
    if (c == '{') return object();
    if (c == '[') return array();
    if (c == '"') return Json{string()};
    if (s_.compare(i_, 4, "true") == 0) return i_ += 4, Json{true};
    if (s_.compare(i_, 5, "false") == 0) return i_ += 5, Json{false};
    if (s_.compare(i_, 4, "null") == 0) return i_ += 4, Json{nullptr};
    if (s_.compare(i_, 3, "NaN") == 0) return i_ += 3, Json{std::nan("")};
    const char* begin = s_.c_str() + i_;
    char* end = nullptr;
    const double d = std::strtod(begin, &end);
    if (end == begin) error("bad value");
    i_ += static_cast<size_t>(end - begin);
    return Json{d};
  }
  std::string string() {
    if (!eat('"')) error("expected string");
    std::string out;
    while (i_ < s_.size() && s_[i_] != '"') {
      if (s_[i_] == '\\') {
        ++i_;
        if (i_ >= s_.size()) error("bad escape");
        const char e = s_[i_];
        if (e == 'u') {
          out += '?';  // code points are not needed by the tests
          i_ += 4;
        } else {
          out += e == 'n' ? '\n' : e == 't' ? '\t' : e;
        }
        ++i_;
      } else {
        out += s_[i_++];
      }
    }
    if (!eat('"')) error("unterminated string");
    return out;
  }
  Json array() {
    eat('[');
    auto a = std::make_shared<JsonArray>();
    if (eat(']')) return Json{a};
    do a->push_back(value());
    while (eat(','));
    if (!eat(']')) error("expected ]");
    return Json{a};
  }
  Json object() {
    eat('{');
    auto o = std::make_shared<JsonObject>();
    if (eat('}')) return Json{o};
    do {
      skip();
      std::string key = string();
      if (!eat(':')) error("expected :");
      (*o)[key] = value();
    } while (eat(','));
    if (!eat('}')) error("expected }");
    return Json{o};
  }

  const std::string& s_;
  size_t i_ = 0;
};

}  // namespace

double Json::number() const {
  return std::get<double>(value);
}
const std::string& Json::string() const {
  return std::get<std::string>(value);
}
const JsonArray& Json::array() const {
  return *std::get<std::shared_ptr<JsonArray>>(value);
}
const JsonObject& Json::object() const {
  return *std::get<std::shared_ptr<JsonObject>>(value);
}
bool Json::has(const std::string& key) const {
  return object().count(key) != 0;
}
const Json& Json::operator[](const std::string& key) const {
  auto it = object().find(key);
  if (it == object().end()) throw std::runtime_error("json: no key " + key);
  return it->second;
}

Json parse_json(const std::string& text) {
  return Parser(text).parse();
}

Json read_json_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_json(ss.str());
}

}  // namespace moescope::test
