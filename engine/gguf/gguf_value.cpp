#include "engine/gguf/gguf_value.h"

#include <limits>

#include "engine/common/error.h"

namespace moescope::gguf {

std::string_view value_type_name(ValueType type) {
  switch (type) {
    case ValueType::UInt8:
      return "uint8";
    case ValueType::Int8:
      return "int8";
    case ValueType::UInt16:
      return "uint16";
    case ValueType::Int16:
      return "int16";
    case ValueType::UInt32:
      return "uint32";
    case ValueType::Int32:
      return "int32";
    case ValueType::Float32:
      return "float32";
    case ValueType::Bool:
      return "bool";
    case ValueType::String:
      return "string";
    case ValueType::Array:
      return "array";
    case ValueType::UInt64:
      return "uint64";
    case ValueType::Int64:
      return "int64";
    case ValueType::Float64:
      return "float64";
  }
  return "unknown";
}

size_t ArrayValue::size() const {
  return std::visit([](const auto& v) { return v.size(); }, items);
}

bool Value::is_integer() const {
  switch (type()) {
    case ValueType::UInt8:
    case ValueType::Int8:
    case ValueType::UInt16:
    case ValueType::Int16:
    case ValueType::UInt32:
    case ValueType::Int32:
    case ValueType::UInt64:
    case ValueType::Int64:
      return true;
    default:
      return false;
  }
}

bool Value::is_float() const {
  return type() == ValueType::Float32 || type() == ValueType::Float64;
}

int64_t Value::as_int() const {
  if (!is_integer()) fail("a {} value is not an integer", value_type_name(type()));
  if (const auto* u = std::get_if<uint64_t>(&data)) {
    if (*u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      fail("the uint64 value {} does not fit in int64", *u);
    }
    return static_cast<int64_t>(*u);
  }
  return std::visit(
      [](const auto& v) -> int64_t {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_integral_v<T>) {
          return static_cast<int64_t>(v);
        } else {
          return 0;  // unreachable: is_integer() checked above
        }
      },
      data);
}

double Value::as_double() const {
  if (is_float()) {
    if (const auto* f = std::get_if<float>(&data)) return *f;
    return std::get<double>(data);
  }
  if (const auto* u = std::get_if<uint64_t>(&data)) return static_cast<double>(*u);
  if (is_integer()) return static_cast<double>(as_int());
  fail("a {} value is not a number", value_type_name(type()));
}

const std::string& Value::as_string() const {
  if (const auto* s = std::get_if<std::string>(&data)) return *s;
  fail("a {} value is not a string", value_type_name(type()));
}

bool Value::as_bool() const {
  if (const auto* b = std::get_if<bool>(&data)) return *b;
  fail("a {} value is not a bool", value_type_name(type()));
}

const ArrayValue& Value::as_array() const {
  if (const auto* a = std::get_if<std::shared_ptr<ArrayValue>>(&data)) {
    if (*a) return **a;
    fail("internal error: null array value");
  }
  fail("a {} value is not an array", value_type_name(type()));
}

}  // namespace moescope::gguf
