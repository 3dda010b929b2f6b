#pragma once
// Deep equality of GGUF values, for round-trip checks in tests and the fuzzer.
#include <cstring>
#include <type_traits>
#include <variant>

#include "engine/gguf/gguf_value.h"

namespace moescope::test {

// Deep equality; floats compare by bit pattern so NaN payloads and -0.0 must survive a round trip.
inline bool same_value(const gguf::Value& a, const gguf::Value& b);

inline bool same_array(const gguf::ArrayValue& a, const gguf::ArrayValue& b) {
  if (a.element_type != b.element_type || a.items.index() != b.items.index()) return false;
  return std::visit(
      [&b](const auto& xs) {
        using V = std::decay_t<decltype(xs)>;
        const auto& ys = std::get<V>(b.items);
        if (xs.size() != ys.size()) return false;
        for (size_t i = 0; i < xs.size(); ++i) {
          using T = typename V::value_type;
          if constexpr (std::is_same_v<T, gguf::Value>) {
            if (!same_value(xs[i], ys[i])) return false;
          } else if constexpr (std::is_floating_point_v<T>) {
            if (std::memcmp(&xs[i], &ys[i], sizeof(T)) != 0) return false;
          } else {
            if (!(xs[i] == ys[i])) return false;
          }
        }
        return true;
      },
      a.items);
}

inline bool same_value(const gguf::Value& a, const gguf::Value& b) {
  if (a.data.index() != b.data.index()) return false;
  if (a.type() == gguf::ValueType::Array) return same_array(a.as_array(), b.as_array());
  return std::visit(
      [&b](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        const auto& y = std::get<T>(b.data);
        if constexpr (std::is_floating_point_v<T>) {
          return std::memcmp(&x, &y, sizeof(T)) == 0;
        } else {
          return x == y;
        }
      },
      a.data);
}

}  // namespace moescope::test
