#pragma once
// Text from a trace (prompt, generated text, model path, policy names) is untrusted: it goes into
// the HTML report and its SVG charts only through xml_escape, which also makes it valid UTF-8 and
// valid XML 1.0 character data, so every SVG element stays well-formed whatever the trace holds.
#include <string>
#include <string_view>

namespace moescope::storage::report {

// Escapes & < > " ' and replaces invalid UTF-8 and characters XML 1.0 forbids (controls other
// than tab, newline, carriage return; surrogates; U+FFFE/U+FFFF) with U+FFFD.
std::string xml_escape(std::string_view text);
// Appends xml_escape(text) to out.
void append_escaped(std::string& out, std::string_view text);

}  // namespace moescope::storage::report
