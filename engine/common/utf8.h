#pragma once
// Decoding untrusted bytes as UTF-8 (messages, report text).
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace moescope {

// Length of the valid UTF-8 sequence at s[i] and its code point in `cp`; 0 when the bytes there
// are not valid UTF-8 (overlong forms, surrogates and code points past U+10FFFF included).
size_t utf8_sequence(std::string_view s, size_t i, uint32_t& cp);

}  // namespace moescope
