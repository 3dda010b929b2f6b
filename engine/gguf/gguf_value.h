#pragma once
// GGUF metadata values: every scalar type, strings, and (possibly nested) arrays.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace moescope::gguf {

enum class ValueType : uint32_t {
  UInt8 = 0,
  Int8 = 1,
  UInt16 = 2,
  Int16 = 3,
  UInt32 = 4,
  Int32 = 5,
  Float32 = 6,
  Bool = 7,
  String = 8,
  Array = 9,
  UInt64 = 10,
  Int64 = 11,
  Float64 = 12,
};

std::string_view value_type_name(ValueType type);

struct Value;

// Arrays are homogeneous. Large token arrays are common (150k strings), so arrays of scalars and
// strings are stored unboxed; only arrays of arrays hold Values.
struct ArrayValue {
  ValueType element_type = ValueType::UInt8;
  std::variant<std::vector<uint8_t>, std::vector<int8_t>, std::vector<uint16_t>,
               std::vector<int16_t>, std::vector<uint32_t>, std::vector<int32_t>,
               std::vector<float>, std::vector<bool>, std::vector<std::string>, std::vector<Value>,
               std::vector<uint64_t>, std::vector<int64_t>, std::vector<double>>
      items;
  size_t size() const;
};

struct Value {
  // Alternative index == ValueType id.
  std::variant<uint8_t, int8_t, uint16_t, int16_t, uint32_t, int32_t, float, bool, std::string,
               std::shared_ptr<ArrayValue>, uint64_t, int64_t, double>
      data;

  ValueType type() const { return static_cast<ValueType>(data.index()); }
  bool is_integer() const;
  bool is_float() const;
  // Conversions that never lose information silently: as_int() fails for floats and for uint64
  // values above INT64_MAX; as_double() accepts integers and floats. Both throw moescope::Error.
  int64_t as_int() const;
  double as_double() const;
  const std::string& as_string() const;
  bool as_bool() const;
  const ArrayValue& as_array() const;
};

// Builders: make_value(uint32_t{4}) holds exactly that type; make_array(std::vector<T>) derives the
// element type from T (std::vector<Value> for arrays of arrays, whose items must all be arrays).
template <typename T>
Value make_value(T value) {
  Value v;
  v.data.template emplace<T>(std::move(value));
  return v;
}
inline Value make_value(const char* value) {
  return make_value(std::string(value));
}
inline Value make_value(ArrayValue array) {
  return make_value(std::make_shared<ArrayValue>(std::move(array)));
}

template <typename T>
ArrayValue make_array(std::vector<T> items) {
  ArrayValue a;
  a.items.template emplace<std::vector<T>>(std::move(items));
  a.element_type = static_cast<ValueType>(a.items.index());
  return a;
}

}  // namespace moescope::gguf
