#pragma once
// Error messages echo what they were given: arguments, file names, text read from damaged files.
// printable_message() makes any such message safe and short enough for one terminal line.
#include <string>
#include <string_view>

namespace moescope {

// One line: control characters and bytes that are not UTF-8 become \xNN, whitespace runs become
// one space, a word (a run without spaces) longer than kMaxEchoedWord bytes is cut to its first
// kEchoedWordKept bytes plus "…", and the whole line to kMaxMessageBytes.
std::string printable_message(std::string_view raw);

inline constexpr size_t kMaxEchoedWord = 160;
inline constexpr size_t kEchoedWordKept = 80;
inline constexpr size_t kMaxMessageBytes = 1000;

}  // namespace moescope
