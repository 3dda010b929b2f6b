#pragma once
// A small JSON reader for the reference files (tokens.json, routing.json). Test support only.
#include <map>
#include <memory>
#include <string>
#include <variant>
#include <vector>

namespace moescope::test {

struct Json;
using JsonArray = std::vector<Json>;
using JsonObject = std::map<std::string, Json>;

struct Json {
  std::variant<std::nullptr_t, bool, double, std::string, std::shared_ptr<JsonArray>,
               std::shared_ptr<JsonObject>>
      value;

  bool is_null() const { return value.index() == 0; }
  double number() const;
  const std::string& string() const;
  const JsonArray& array() const;
  const JsonObject& object() const;
  const Json& operator[](const std::string& key) const;  // throws if absent
  bool has(const std::string& key) const;
};

// Throws std::runtime_error on malformed input.
Json parse_json(const std::string& text);
Json read_json_file(const std::string& path);

}  // namespace moescope::test
