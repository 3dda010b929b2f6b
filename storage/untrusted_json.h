#pragma once
// JSON texts stored in a trace (settings, machine, policy state) are untrusted: a damaged or
// hostile trace may nest them deeply enough to overflow the stack of nlohmann's recursive parser
// and printer. Every reader of such a text parses it here.
#include <cstddef>
#include <string_view>

#include <nlohmann/json.hpp>

namespace moescope::storage {

// Deeper than anything MoEScope writes (settings nest four levels).
inline constexpr size_t kMaxJsonDepth = 64;

// The parsed value, or a discarded value (is_discarded()) when the text is not JSON or nests
// arrays/objects deeper than kMaxJsonDepth. Never throws.
nlohmann::json parse_untrusted_json(std::string_view text);

}  // namespace moescope::storage
